import WebSocket from 'ws';
import type { BusEvent, HistorySlice, StreamPosition } from '@hookway/bus';
import type { CloseCodeInfo } from '@hookway/protocol';
import type { FeedClient } from './feed-client.ts';
import type { Pingable } from './heartbeat.ts';

export interface StreamClientOptions {
  /** Above this many queued bytes the client is closed as slow; replays wait for half of it to drain. */
  readonly maxBufferedBytes: number;
}

export interface StreamClientCounters {
  framesSent: number;
  slowConsumerCloses: number;
}

/**
 * A WebSocket client fed from one bot's stream, in order, without gaps or repeats. While it catches up from
 * history, live events wait in `pending`; both are merged by sequence. Subclasses decide how an event is framed
 * (or skipped) and which close codes they use.
 */
export abstract class StreamClient implements FeedClient, Pingable {
  protected state: 'catching_up' | 'live' | 'closed' = 'catching_up';
  private pending: BusEvent[] = [];
  private pendingBytes = 0;
  /** The last position written to this client (or known to be behind it). */
  protected last: StreamPosition | undefined;
  isAlive = true;

  constructor(
    readonly ws: WebSocket,
    private readonly options: StreamClientOptions,
    private readonly counters: StreamClientCounters,
  ) {}

  /** The frame for one event, or undefined when this client does not get it (it still counts as passed). */
  protected abstract render(event: BusEvent): string | Buffer | undefined;
  protected abstract readonly slowConsumerClose: CloseCodeInfo;
  /** Events this client should have had are gone for good: make it reconnect and resume. */
  abstract lostEvents(): void;

  deliver(event: BusEvent): boolean {
    if (this.state === 'closed') return false;
    if (this.state === 'catching_up') {
      this.pending.push(event);
      this.pendingBytes += event.body.length;
      if (this.pendingBytes > this.options.maxBufferedBytes) this.closeWith(this.slowConsumerClose);
      return false;
    }
    return this.isNew(event) && this.write(event);
  }

  /**
   * Writes the history slice, then whatever arrived live meanwhile (newer than the slice), then goes live.
   * Returns the last event written, if any.
   */
  protected async replayThenGoLive(slice: HistorySlice): Promise<BusEvent | undefined> {
    let lastWritten = await this.replay(slice.events);
    this.last = slice.head;
    while (this.pending.length > 0 && this.state === 'catching_up') {
      const batch = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      lastWritten = (await this.replay(batch.filter((e) => this.isNew(e)))) ?? lastWritten;
    }
    if (this.state === 'catching_up') this.state = 'live';
    return lastWritten;
  }

  private async replay(events: readonly BusEvent[]): Promise<BusEvent | undefined> {
    let lastWritten: BusEvent | undefined;
    let flushed: Promise<void> = Promise.resolve();
    for (const event of events) {
      // Replays can be megabytes; wait for the kernel to take what is queued instead of tripping the cap.
      const queued = this.ws.bufferedAmount;
      if (queued > this.options.maxBufferedBytes / 2 || (queued > 0 && queued + event.body.length > this.options.maxBufferedBytes)) {
        await flushed;
      }
      if (this.state === 'closed') break;
      let onFlushed!: () => void;
      flushed = new Promise<void>((resolve) => (onFlushed = resolve));
      if (this.write(event, onFlushed)) lastWritten = event;
      else onFlushed();
      if (this.isClosed()) break;
    }
    return lastWritten;
  }

  private isNew(event: BusEvent): boolean {
    return this.last === undefined || event.epoch !== this.last.epoch || event.seq > this.last.seq;
  }

  /** True when a frame went out; false when the event was skipped or the socket cannot take it. */
  private write(event: BusEvent, onFlushed?: () => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const frame = this.render(event);
    this.last = { epoch: event.epoch, seq: event.seq };
    if (frame === undefined) return false;
    const queued = this.ws.bufferedAmount;
    if (queued > 0 && queued + frame.length > this.options.maxBufferedBytes) {
      this.closeWith(this.slowConsumerClose);
      return false;
    }
    // The callback also fires (with an error) if the socket dies, so a waiting replay never hangs.
    this.ws.send(frame, { binary: false }, onFlushed && (() => onFlushed()));
    this.counters.framesSent++;
    return true;
  }

  /** A small frame of our own (a heartbeat ack, a control frame): subject to the same buffer cap as events. */
  sendControl(frame: string): void {
    if (this.state === 'closed' || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount + frame.length > this.options.maxBufferedBytes) return this.closeWith(this.slowConsumerClose);
    this.ws.send(frame);
  }

  closeWith(info: CloseCodeInfo): void {
    if (this.state === 'closed') return;
    if (info === this.slowConsumerClose) this.counters.slowConsumerCloses++;
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

  markClosed(): void {
    this.state = 'closed';
    this.pending = [];
    this.pendingBytes = 0;
  }
}
