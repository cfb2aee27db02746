import type { AppSecret } from '@hookway/protocol';

/**
 * The bus carries accepted webhook events from ingress to gateways. Its one interface is the `EventLog`: per bot
 * a numbered, bounded history and a live stream; every implementation (in-memory, Redis) passes the same
 * contract suite (test/event-log.contract.ts).
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

export interface EventLog {
  /** Numbers, stores and announces one event atomically; a repeated `eventId` within the dedup window is refused. */
  publish(bot: AppSecret, event: IncomingEvent): Promise<PublishResult>;
  /** Resolves once live events will reach `listener`; events arrive in sequence order. */
  subscribe(bot: AppSecret, listener: BusListener, options?: SubscribeOptions): Promise<BusSubscription>;
  /** The bot's current epoch and last assigned number (`{epoch: '', seq: 0}` before any event). */
  head(bot: AppSecret): Promise<StreamPosition>;
  /** Retained events after `cursor`; without a cursor, everything retained. */
  history(bot: AppSecret, cursor?: StreamPosition): Promise<HistorySlice>;
  /** The position of a retained event by its top-level id. */
  locate(bot: AppSecret, eventId: string): Promise<StreamPosition | undefined>;
  /** Records that events up to `position` reached at least one client (monotonic; older positions are ignored). */
  markDelivered(bot: AppSecret, position: StreamPosition): Promise<void>;
  /** The last position that reached a client, if any, in the current epoch. */
  deliveredPosition(bot: AppSecret): Promise<StreamPosition | undefined>;
  /**
   * `hookway check`'s test event: handed to the check sockets holding `nonce` (in any process), never numbered, stored
   * or fanned out to a bot's clients. Resolves with how many sockets' processes received it (0: none holds the nonce).
   */
  publishCheck(nonce: string, body: Buffer): Promise<number>;
  /** A check socket's side of `publishCheck`: resolves once a check event for `nonce` will reach `listener`. */
  subscribeCheck(nonce: string, listener: (body: Buffer) => void): Promise<BusSubscription>;
  /** False while the log cannot accept events (for `/readyz`). */
  isReady(): boolean;
  close(): Promise<void>;
}

/** The ingress's side of the log: it only appends (and says whether it can). */
export type EventPublisher = Pick<EventLog, 'publish' | 'publishCheck' | 'isReady'>;
/** The gateways' side of the log: everything but appending (and closing, which its owner does). */
export type EventReader = Omit<EventLog, 'publish' | 'close'>;

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
    super('event log is closed');
    this.name = 'BusClosedError';
  }
}
