/**
 * The bus carries accepted webhook events from ingress to gateways. Per bot it keeps a numbered, bounded
 * history and a live stream; every implementation (in-memory, Redis) passes the same contract suite.
 *
 * Bots are keyed by their AppSecret, as the design card's channel `qq:<secret>` is.
 */

/** Where a reader is in a bot's stream. `epoch` names one incarnation of the numbering. */
export interface StreamPosition {
  readonly epoch: string;
  readonly seq: number;
}

export interface IncomingEvent {
  /** The payload's top-level `id`, used for retry de-duplication and as the raw-mode resume cursor. */
  readonly eventId?: string | undefined;
  /** The bytes exactly as the platform sent them. */
  readonly body: Buffer;
}

export interface BusEvent extends StreamPosition {
  readonly eventId?: string | undefined;
  readonly body: Buffer;
  readonly acceptedAtMs: number;
}

export type PublishResult = { readonly status: 'accepted'; readonly position: StreamPosition } | { readonly status: 'duplicate' };

export interface HistorySlice {
  /** The stream's current epoch and last assigned number (seq 0: nothing published yet in this epoch). */
  readonly head: StreamPosition;
  /** Retained events after the cursor (or all retained events when the cursor cannot be honoured), in order. */
  readonly events: readonly BusEvent[];
  /**
   * True when `events` is exactly everything after the cursor. False when the cursor's epoch is gone or
   * events after it were already trimmed: the reader may have missed events.
   */
  readonly complete: boolean;
}

export interface BusSubscription {
  close(): Promise<void>;
}

export type BusListener = (event: BusEvent) => void;

export interface SubscribeOptions {
  /**
   * Called when live events may have been missed (the subscriber connection was lost and re-established, or
   * failed a probe). The subscriber should compare its position with the history and backfill.
   */
  readonly onResync?: () => void;
}

export interface Bus {
  /** Numbers, stores and announces one event atomically; a repeated `eventId` within the dedup window is refused. */
  publish(bot: string, event: IncomingEvent): Promise<PublishResult>;
  /** Resolves once live events will reach `listener`; events arrive in sequence order. */
  subscribe(bot: string, listener: BusListener, options?: SubscribeOptions): Promise<BusSubscription>;
  /** The bot's current epoch and last assigned number (`{epoch: '', seq: 0}` before any event). */
  head(bot: string): Promise<StreamPosition>;
  /** Retained events after `cursor`; without a cursor, everything retained. */
  history(bot: string, cursor?: StreamPosition): Promise<HistorySlice>;
  /** The position of a retained event by its top-level id. */
  locate(bot: string, eventId: string): Promise<StreamPosition | undefined>;
  /** Records that events up to `position` reached at least one client (monotonic; older positions are ignored). */
  markDelivered(bot: string, position: StreamPosition): Promise<void>;
  /** The last position that reached a client, if any, in the current epoch. */
  deliveredPosition(bot: string): Promise<StreamPosition | undefined>;
  /** Stores a gateway session (an opaque JSON string) so that any replica can resume it. */
  saveSession(sessionId: string, data: string, ttlMs: number): Promise<void>;
  loadSession(sessionId: string): Promise<string | undefined>;
  /** Records which AppSecret belongs to an appid (learned from a verified webhook's X-Bot-Appid). */
  rememberBot(appid: string, secret: string): Promise<void>;
  /** Every appid → AppSecret pair learned so far. */
  knownBots(): Promise<ReadonlyMap<string, string>>;
  /** False while the bus cannot accept events (for `/readyz`). */
  isReady(): boolean;
  close(): Promise<void>;
}

export interface HistoryLimits {
  /** Events kept per bot. */
  readonly historyMaxEvents: number;
  /** How long an event is kept. */
  readonly historyMaxAgeMs: number;
  /** Body bytes kept per bot, so a few huge events cannot exhaust memory. */
  readonly historyMaxBytes: number;
  /** How long a top-level id is remembered for retry de-duplication. */
  readonly dedupWindowMs: number;
}

export class BusClosedError extends Error {
  constructor() {
    super('bus is closed');
    this.name = 'BusClosedError';
  }
}
