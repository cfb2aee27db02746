import WebSocket from 'ws';
import type { Bus, BusEvent, StreamPosition } from '@hookway/bus';
import { RawClose, resumeStatusFrame, type CloseCodeInfo } from '@hookway/protocol';
import type { FeedClient } from './feed-client.ts';
import type { Pingable } from './heartbeat.ts';

export interface RawClientOptions {
  /** Above this many queued bytes the client is closed with 4100; replays wait for half of it to drain. */
  readonly maxBufferedBytes: number;
}

export interface RawClientCounters {
  framesSent: number;
  slowConsumerCloses: number;
}

type CatchUpBus = Pick<Bus, 'locate' | 'history' | 'deliveredPosition'>;

/**
 * A raw-mode client: it receives each event's original bytes as one text frame, in order, without gaps or
 * repeats. While it catches up from history, live events wait in `pending`; both are merged by sequence.
 */
export class RawClient implements FeedClient, Pingable {
  private state: 'catching_up' | 'live' | 'closed' = 'catching_up';
  private pending: BusEvent[] = [];
  private pendingBytes = 0;
  /** The last position written to this client (or known to be behind it). */
  private last: StreamPosition | undefined;
  isAlive = true;

  constructor(
    readonly ws: WebSocket,
    readonly bot: string,
    private readonly options: RawClientOptions,
    private readonly counters: RawClientCounters,
  ) {}

  deliver(event: BusEvent): boolean {
    if (this.state === 'closed') return false;
    if (this.state === 'catching_up') {
      this.pending.push(event);
      this.pendingBytes += event.body.length;
      if (this.pendingBytes > this.options.maxBufferedBytes) this.closeWith(RawClose.SlowConsumer);
      return false;
    }
    return this.isNew(event) && this.write(event);
  }

  /**
   * Replays what the client missed, then switches to live. With `after`, everything after that event id
   * (preceded by a status frame saying whether recovery was complete); without it, the events no client has
   * received yet. Returns the last event written, if any.
   */
  async catchUp(bus: CatchUpBus, after: string | undefined): Promise<BusEvent | undefined> {
    let slice;
    if (after !== undefined) {
      const cursor = await bus.locate(this.bot, after);
      slice = await bus.history(this.bot, cursor);
      const recovered = cursor !== undefined && slice.complete;
      if (this.state === 'closed') return undefined;
      this.ws.send(
        resumeStatusFrame({
          recovered,
          after,
          replayed: slice.events.length,
          ...(cursor === undefined ? { reason: 'cursor_not_found' as const } : {}),
        }),
      );
    } else {
      slice = await bus.history(this.bot, await bus.deliveredPosition(this.bot));
    }
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
      if (!this.write(event, onFlushed)) break;
      lastWritten = event;
    }
    return lastWritten;
  }

  private isNew(event: BusEvent): boolean {
    return this.last === undefined || event.epoch !== this.last.epoch || event.seq > this.last.seq;
  }

  private write(event: BusEvent, onFlushed?: () => void): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const queued = this.ws.bufferedAmount;
    if (queued > 0 && queued + event.body.length > this.options.maxBufferedBytes) {
      this.closeWith(RawClose.SlowConsumer);
      return false;
    }
    // The callback also fires (with an error) if the socket dies, so a waiting replay never hangs.
    this.ws.send(event.body, { binary: false }, onFlushed && (() => onFlushed()));
    this.last = event;
    this.counters.framesSent++;
    return true;
  }

  lostEvents(): void {
    this.closeWith(RawClose.StreamGap);
  }

  /** A small frame of our own (a heartbeat ack): subject to the same buffer cap as events. */
  sendControl(frame: string): void {
    if (this.state === 'closed' || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount + frame.length > this.options.maxBufferedBytes) return this.closeWith(RawClose.SlowConsumer);
    this.ws.send(frame);
  }

  closeWith(info: CloseCodeInfo): void {
    if (this.state === 'closed') return;
    if (info === RawClose.SlowConsumer) this.counters.slowConsumerCloses++;
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

  markClosed(): void {
    this.state = 'closed';
    this.pending = [];
    this.pendingBytes = 0;
  }
}
