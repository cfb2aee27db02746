import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { BusEvent, EventLog, HistorySlice, StreamPosition } from '@hookway/bus';
import type { AppSecret, CloseCodeInfo } from '@hookway/protocol';
import type { ClientMode, GatewayMetrics, Logger } from '@hookway/runtime';
import type { BotFeed, BotFeeds } from './bot-feeds.ts';
import type { KeyGrant } from './client-keys.ts';
import type { FeedClient } from './feed-client.ts';
import {
  cork,
  framesOf,
  isPlainSocket,
  uncork,
  writeFrame,
  writeJoinedFrames,
  type EventFrames,
  type PreparedFrame,
  type RawRun,
} from './frames.ts';
import type { Pingable } from './heartbeat.ts';
import type { KeyedClient } from './key-recheck.ts';
import type { RawCallsContext } from '../raw/calls.ts';

/** Counted by every kind of client, under the names `/healthz` shows. */
export type StreamClientCounters = {
  framesSent: number;
  slowConsumerCloses: number;
  ignoredClientFrames: number;
};

/** What every kind of client is given: the stores it reads from, the feeds it joins, where it counts and logs. */
export interface StreamClientContext {
  readonly events: Pick<EventLog, 'head' | 'history' | 'locate'>;
  readonly feeds: BotFeeds;
  readonly logger: Logger;
  readonly counters: StreamClientCounters;
  /** Above this many queued bytes the client is closed as slow; replays wait for half of it to drain. */
  readonly maxBufferedBytes: number;
  /** Every client this gateway has; a client takes itself out when its socket closes (its size is in log lines). */
  readonly clients: { readonly size: number; delete(client: StreamClient): boolean };
  /** Told which clients are connected, for the status page. */
  readonly activity?: ClientActivity;
  /** Raw clients' calls through the socket (raw/calls.ts); absent: call frames are ignored like any other text. */
  readonly calls?: RawCallsContext;
  /** Frames written and closes, for `GET /metrics` and the activity line. */
  readonly metrics?: GatewayMetrics;
}

/** The status page's view of the gateway (packages/status's ActivityRecorder fits it): connected until the returned call. */
export interface ClientActivity {
  connected(
    bot: string,
    client: { mode: 'raw' | 'gateway'; address: string; sinceMs: number; key?: string; appid?: string },
  ): { disconnected(): void };
}

/** How long a client's start retries reads the event log refuses (a Sentinel or Cluster failover: a few seconds). */
export const START_READS_RETRY_MS = 15_000;

/**
 * One WebSocket client fed from one bot's stream, in order, without gaps or repeats — and the one lifecycle every
 * kind of client shares:
 *
 *   start → (the kind's handshake) → join the bot's feed → catch up from history → live → shutdown → closed
 *
 * `start` wires the socket; a kind calls `joinFeed` and `catchUp` when it knows the bot and where to start. While it
 * catches up, live events wait in `pending` and are merged by sequence. When the socket closes the client leaves
 * its feed and `closed` resolves, whatever stage it was in. A kind decides how an event is framed (or skipped),
 * what its frames mean, which close codes it uses and how it says goodbye on shutdown — adding a kind of client
 * means one new subclass, nothing else.
 */
export abstract class StreamClient implements FeedClient, Pingable, KeyedClient {
  protected state: 'catching_up' | 'live' | 'closed' = 'catching_up';
  /** Made at the first live event that has to wait: most clients catch up before one comes. */
  private pending: BusEvent[] | undefined;
  private pendingBytes = 0;
  /** The last position written to this client (or known to be behind it). */
  protected last: StreamPosition | undefined;
  /** The bot whose feed this client joined (even if it then failed), to leave it on close. */
  private feedBot: AppSecret | undefined;
  private feed: BotFeed | undefined;
  /** Where this client joined its feed (BotFeeds.join): every later event reaches it from the feed. */
  protected joinedAt: StreamPosition | undefined;
  isAlive = true;
  /** The client key this connection was admitted with (re-checked while it lasts), or undefined for other credentials. */
  keyGrant: KeyGrant | undefined;
  /** Made when first asked for (at shutdown): an idle connection holds no promise. */
  private closedPromise: Promise<number> | undefined;
  private resolveClosed: ((code: number) => void) | undefined;
  /** The socket's close code, once it closed. */
  private closeCode: number | undefined;
  private readonly connectedAtMs = Date.now();
  /** Takes this client off the status page. */
  private statusEntry: { disconnected(): void } | undefined;
  /** No extension negotiated: prepared frames may go straight to the socket (frames.ts). */
  private readonly plainSocket: boolean;

  constructor(
    readonly ws: WebSocket,
    protected readonly context: StreamClientContext,
    /** The client's address (TRUST_PROXY rule): failed authentications count against it; the status page shows it. */
    protected readonly address: string,
  ) {
    this.plainSocket = isPlainSocket(ws);
  }

  /** Resolves with the close code once the socket has closed and the client has left its feed. */
  get closed(): Promise<number> {
    if (!this.closedPromise) {
      const code = this.closeCode;
      this.closedPromise = code !== undefined ? Promise.resolve(code) : new Promise<number>((resolve) => (this.resolveClosed = resolve));
    }
    return this.closedPromise;
  }

  /** The client is its bot's from here on (authenticated, feed joined): the status page lists it until it closes. */
  protected noteConnected(bot: AppSecret, appid?: string): void {
    const activity = this.context.activity;
    if (!activity || this.statusEntry || this.isClosed()) return;
    const key = this.keyGrant?.name;
    this.statusEntry = activity.connected(bot.tag, {
      mode: this.clientMode,
      address: this.address,
      sinceMs: this.connectedAtMs,
      ...(key !== undefined ? { key } : {}),
      ...(appid !== undefined ? { appid } : {}),
    });
  }

  /**
   * The frame for one event — one of `frames`, built once for every client that gets the same bytes — or undefined
   * when this client does not get it (it still counts as passed).
   */
  protected abstract render(event: BusEvent, frames: EventFrames): PreparedFrame | undefined;
  /** Which kind of client this is, in metrics and on the status page. */
  abstract readonly clientMode: ClientMode;
  protected abstract readonly slowConsumerClose: CloseCodeInfo;
  /** One text frame from the client; false when this kind does not take it (counted as ignored). */
  protected abstract onText(text: string): boolean;
  /** The kind's first step once the socket is wired: a raw client joins at once, a gateway session says Hello. */
  protected abstract begin(): void;
  /** Events this client should have had are gone for good: make it reconnect and resume. */
  abstract lostEvents(): void;
  /** The server is shutting down: tell the client to reconnect elsewhere, in this kind's words. */
  abstract shutdown(): void;
  /** The client key this connection was admitted with was revoked or expired: close it, telling it not to come back. */
  abstract keyRevoked(): void;
  /** Called once, after the socket closed and the feed was left: timers, logs, last words to the stores. */
  protected abstract onClosed(code: number): void;

  /** Wires the socket (liveness, frames, close) and begins. Call once, right after the upgrade. */
  start(): void {
    // The same four functions for every socket (they find their client through it): no closures per connection.
    (this.ws as SocketWithClient)[CLIENT] = this;
    this.ws.on('pong', onPong);
    this.ws.on('message', onMessage);
    this.ws.on('error', onError);
    this.ws.on('close', onClose);
    this.begin();
  }

  /** One frame from the client. */
  private received(data: WebSocket.RawData, isBinary: boolean): void {
    this.isAlive = true;
    if (isBinary || !this.onText(rawText(data))) this.context.counters.ignoredClientFrames++;
  }

  private socketClosed(code: number): void {
    this.markClosed();
    this.context.clients.delete(this);
    if (this.feedBot) this.context.feeds.leave(this.feedBot, this);
    this.statusEntry?.disconnected();
    this.context.metrics?.clientClosed(this.clientMode, code);
    this.onClosed(code);
    this.closeCode = code;
    this.resolveClosed?.(code);
  }

  /** For the socket listeners below. */
  static socketReceived(client: StreamClient, data: WebSocket.RawData, isBinary: boolean): void {
    client.received(data, isBinary);
  }

  static socketClosed(client: StreamClient, code: number): void {
    client.socketClosed(code);
  }

  static socketError(client: StreamClient, err: Error): void {
    client.context.logger.debug({ err: err.message }, 'client socket error');
  }

  /**
   * Joins the bot's live feed. From here on its events wait in `pending` until `catchUp` is done, so reading the
   * starting point afterwards can miss nothing. A client that closed meanwhile is taken out again.
   */
  protected async joinFeed(bot: AppSecret): Promise<void> {
    this.feedBot = bot;
    const joined = await this.context.feeds.join(bot, this);
    this.feed = joined.feed;
    this.joinedAt = joined.joinedAt;
    if (this.isClosed()) this.context.feeds.leave(bot, this);
  }

  /**
   * Reads where this client starts (the delivered mark, a cursor, the history), retried while the event log refuses
   * — a Redis failover takes seconds — for as long as the client stays and START_READS_RETRY_MS allows. The client has
   * joined its feed, so what arrives meanwhile waits in `pending`. Closing it at the first refusal could lose events
   * for a client that had received none yet: with no cursor to resume from, it comes back as a new client, starting
   * after what other clients had already received.
   */
  protected async readStart<T>(read: () => Promise<T>): Promise<T> {
    const deadlineMs = Date.now() + START_READS_RETRY_MS;
    for (let waitMs = 50; ; waitMs = Math.min(2 * waitMs, 1000)) {
      try {
        return await read();
      } catch (err) {
        if (this.isClosed() || Date.now() + waitMs > deadlineMs) throw err;
        this.context.logger.warn({ err: (err as Error).message, retryInMs: waitMs }, 'could not read where a client starts; retrying');
        await sleep(waitMs, undefined, { ref: false });
      }
    }
  }

  /**
   * Writes the history slice, then whatever arrived live meanwhile (newer than the slice), then goes live, and
   * records how far the bot's stream has now reached a client.
   */
  protected async catchUp(slice: HistorySlice): Promise<void> {
    const lastWritten = await this.replayThenGoLive(slice);
    if (lastWritten) this.feed?.noteDelivered(lastWritten);
  }

  /** A live event from the feed's fan-out (counted there, once per event); true when a frame was written. */
  deliver(event: BusEvent, frames: EventFrames): boolean {
    if (this.state === 'live') return this.isNew(event) && this.write(event, frames);
    if (this.state === 'closed') return false;
    (this.pending ??= []).push(event);
    this.pendingBytes += event.body.length;
    if (this.pendingBytes > this.context.maxBufferedBytes) this.closeWith(this.slowConsumerClose);
    return false;
  }

  /** See FeedClient.deliverRawRun: only a live client that renders every event as its raw frame takes a run. */
  deliverRawRun(run: RawRun): boolean | undefined {
    if (this.state !== 'live' || !this.rendersEveryEventRaw() || !this.isNew(run.first)) return undefined;
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    // Past the cap: one frame at a time (`deliver`), which cuts the client at the exact frame, as ever.
    if (this.ws.bufferedAmount + run.payloadBytes > this.context.maxBufferedBytes) return undefined;
    if (!writeJoinedFrames(this.ws, this.plainSocket, run)) return undefined;
    this.last = run.last;
    return true;
  }

  /** Whether `render` gives every event's raw frame, whatever the event (an unfiltered raw client): it may take raw runs. */
  protected rendersEveryEventRaw(): boolean {
    return false;
  }

  hold(): void {
    cork(this.ws);
  }

  release(): void {
    uncork(this.ws);
  }

  /** The feed's backlog overflowed before this client got its next event: closed as slow; it resumes from history. */
  fellBehind(): boolean {
    if (this.state === 'closed') return false;
    this.closeWith(this.slowConsumerClose);
    return true;
  }

  /** Whether a key limited to certain event types lets this event through (events without a `t` do not pass such a key). */
  protected keyAllows(t: string | undefined): boolean {
    const events = this.keyGrant?.events;
    return events === undefined || (t !== undefined && events.has(t));
  }

  private async replayThenGoLive(slice: HistorySlice): Promise<BusEvent | undefined> {
    let lastWritten = await this.replay(slice.events);
    this.last = slice.head;
    while (this.pending !== undefined && this.pending.length > 0 && this.state === 'catching_up') {
      const batch = this.pending;
      this.pending = undefined;
      this.pendingBytes = 0;
      lastWritten = (await this.replay(batch.filter((e) => this.isNew(e)))) ?? lastWritten;
    }
    if (this.state === 'catching_up') this.state = 'live';
    return lastWritten;
  }

  private async replay(events: readonly BusEvent[]): Promise<BusEvent | undefined> {
    let lastWritten: BusEvent | undefined;
    let flushed: Promise<void> = Promise.resolve();
    const cap = this.context.maxBufferedBytes;
    for (const event of events) {
      // Replays can be megabytes; wait for the kernel to take what is queued instead of tripping the cap.
      const queued = this.ws.bufferedAmount;
      if (queued > cap / 2 || (queued > 0 && queued + event.body.length > cap)) await flushed;
      if (this.state === 'closed') break;
      let onFlushed!: () => void;
      flushed = new Promise<void>((resolve) => (onFlushed = resolve));
      if (this.write(event, framesOf(event), onFlushed)) {
        lastWritten = event;
        this.context.counters.framesSent++;
        this.context.metrics?.delivered(this.clientMode, this.feedBot?.tag ?? 'unknown', event.acceptedAtMs);
      } else onFlushed();
      if (this.isClosed()) break;
    }
    return lastWritten;
  }

  private isNew(event: BusEvent): boolean {
    return this.last === undefined || event.epoch !== this.last.epoch || event.seq > this.last.seq;
  }

  /** True when a frame went out; false when the event was skipped or the socket cannot take it. */
  private write(event: BusEvent, frames: EventFrames, onFlushed?: () => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const frame = this.render(event, frames);
    // The event itself is a position (no object per frame); it is retained in the history anyway.
    this.last = event;
    if (frame === undefined) return false;
    const queued = this.ws.bufferedAmount;
    if (queued > 0 && queued + frame.payload.length > this.context.maxBufferedBytes) {
      this.closeWith(this.slowConsumerClose);
      return false;
    }
    // The callback also fires (with an error) if the socket dies, so a waiting replay never hangs.
    writeFrame(this.ws, this.plainSocket, frame, onFlushed);
    return true;
  }

  /** A small frame of our own (a heartbeat ack, a control frame): subject to the same buffer cap as events. */
  sendControl(frame: string): void {
    if (this.state === 'closed' || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount + frame.length > this.context.maxBufferedBytes) return this.closeWith(this.slowConsumerClose);
    this.ws.send(frame);
  }

  closeWith(info: CloseCodeInfo): void {
    if (this.state === 'closed') return;
    if (info === this.slowConsumerClose) this.context.counters.slowConsumerCloses++;
    this.markClosed();
    this.ws.close(info.code, info.reason);
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  terminate(): void {
    this.markClosed();
    this.ws.terminate();
  }

  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** No more frames from here on; the socket's own close event finishes the lifecycle. */
  protected markClosed(): void {
    this.state = 'closed';
    this.pending = undefined;
    this.pendingBytes = 0;
  }
}

const CLIENT = Symbol('hookway.streamClient');
type SocketWithClient = WebSocket & { [CLIENT]: StreamClient };

function onPong(this: WebSocket): void {
  (this as SocketWithClient)[CLIENT].isAlive = true;
}

function onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  StreamClient.socketReceived((this as SocketWithClient)[CLIENT], data, isBinary);
}

function onError(this: WebSocket, err: Error): void {
  StreamClient.socketError((this as SocketWithClient)[CLIENT], err);
}

function onClose(this: WebSocket, code: number): void {
  StreamClient.socketClosed((this as SocketWithClient)[CLIENT], code);
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
}
