import { randomBytes } from 'node:crypto';
import type { AppSecret } from '@hookway/protocol';
import { BodySlabs } from './body-slabs.ts';
import { continuesWithoutGap } from './continuity.ts';
import { DedupWindow } from './dedup-window.ts';
import type {
  EventLog,
  BusEvent,
  BusListener,
  BusSubscription,
  HistoryLimits,
  HistorySlice,
  IncomingEvent,
  PublishResult,
  StreamPosition,
  SubscribeOptions,
} from './types.ts';
import { BusClosedError } from './types.ts';

export interface MemoryEventLogOptions extends HistoryLimits {
  /** Milliseconds since the epoch; injectable so tests can move time. */
  readonly nowMs?: () => number;
  /** How often idle bots are swept (expired history and dedup entries freed). */
  readonly sweepIntervalMs?: number;
  /**
   * Ids remembered per bot for de-duplication, whatever the window: a memory bound for extreme rates
   * (10 min at 10 000 events/s would be 6 M ids; each costs 40–64 bytes, dedup-window.ts). Past it the oldest ids are
   * forgotten early.
   */
  readonly dedupMaxIds?: number;
}

/** A fresh 8-character epoch, as Centrifugo does: a new numbering can never be mistaken for an old one. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

/** One bot's stream: contiguous numbers, trimmed from the front only. */
class BotLog {
  readonly epoch = newEpoch();
  headSeq = 0;
  /**
   * Retained events are events[head…]; trimming only advances `head`, and the array is compacted when the
   * dead prefix dominates, so each append costs amortised O(1) even at the count cap.
   */
  private events: BusEvent[] = [];
  private head = 0;
  private bytes = 0;
  private readonly bodies = new BodySlabs();
  private readonly ids: DedupWindow;
  readonly listeners = new Set<BusListener>();
  delivered: StreamPosition | undefined;
  /** `headPosition()`'s object while the head has not moved. */
  private headAt: StreamPosition | undefined;

  constructor(
    private readonly limits: HistoryLimits,
    dedupMaxIds: number,
  ) {
    this.ids = new DedupWindow(limits.dedupWindowMs, dedupMaxIds);
  }

  /**
   * The head as a position: one object per head, not one per reader. A client that catches up keeps the head of its
   * history slice as its position until its first event; every client that connects between two events shares it.
   */
  headPosition(): StreamPosition {
    if (this.headAt?.seq !== this.headSeq) this.headAt = { epoch: this.epoch, seq: this.headSeq };
    return this.headAt;
  }

  isDuplicate(eventId: string, nowMs: number): boolean {
    return this.ids.isDuplicate(eventId, nowMs);
  }

  append(event: IncomingEvent, nowMs: number): BusEvent {
    const stored: BusEvent = {
      epoch: this.epoch,
      seq: ++this.headSeq,
      eventId: event.eventId,
      body: this.bodies.store(event.body),
      acceptedAtMs: nowMs,
    };
    this.events.push(stored);
    this.bytes += stored.body.length;
    if (stored.eventId !== undefined) this.ids.added(stored.eventId, nowMs, stored.seq);
    this.trim(nowMs);
    return stored;
  }

  trim(nowMs: number): void {
    const oldestKeptMs = nowMs - this.limits.historyMaxAgeMs;
    while (this.head < this.events.length) {
      const e = this.events[this.head]!;
      const overCount = this.events.length - this.head > this.limits.historyMaxEvents;
      const overBytes = this.bytes > this.limits.historyMaxBytes;
      if (!overCount && !overBytes && e.acceptedAtMs > oldestKeptMs) break;
      this.bytes -= e.body.length;
      this.events[this.head++] = undefined as unknown as BusEvent;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    this.ids.forgetExpired(nowMs);
  }

  /** Retained events with seq > afterSeq. */
  after(afterSeq: number): BusEvent[] {
    const first = this.events[this.head];
    if (!first) return [];
    return this.events.slice(this.head + Math.max(0, afterSeq + 1 - first.seq));
  }

  /**
   * The seq of the newest retained event carrying `eventId`. A remembered id names its latest event's seq (checked
   * here against the event, as a digest stands for the id). Only events older than every remembered id can carry an
   * id the window forgot — none with the defaults, where the window (600 s, 200 000 ids) outlasts the history (600 s,
   * 10 000 events) — and only those are walked, newest first.
   */
  locate(eventId: string): number | undefined {
    const remembered = this.ids.seqOf(eventId);
    if (remembered !== undefined) {
      const event = this.retained(remembered);
      if (event?.eventId === eventId) return remembered;
    }
    const walkBelow = this.ids.oldestSeq() ?? this.headSeq + 1;
    for (let seq = Math.min(walkBelow - 1, this.headSeq); ; seq--) {
      const event = this.retained(seq);
      if (event === undefined) return undefined;
      if (event.eventId === eventId) return seq;
    }
  }

  /** The retained event numbered `seq`, or undefined. */
  private retained(seq: number): BusEvent | undefined {
    const index = this.events.length - 1 - (this.headSeq - seq);
    return index >= this.head && index < this.events.length ? this.events[index] : undefined;
  }

  /** Nothing retained, nothing remembered, nobody listening: safe to forget (a new log gets a new epoch). */
  isIdle(): boolean {
    return this.head === this.events.length && this.ids.rememberedIds === 0 && this.listeners.size === 0;
  }
}

const DEFAULT_DEDUP_MAX_IDS = 200_000;

/** The embedded default: one process, no Redis. Events live as long as the process. */
export class MemoryEventLog implements EventLog {
  /** By the revealed secret: two AppSecret objects for one bot must find the same log. */
  private readonly logs = new Map<string, BotLog>();
  /** `hookway check` sockets by their nonce: kept apart from the bots' logs, so a check event can never enter one. */
  private readonly checks = new Map<string, Set<(body: Buffer) => void>>();
  private readonly nowMs: () => number;
  private readonly sweepTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: MemoryEventLogOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.sweepTimer.unref();
  }

  private log(bot: AppSecret): BotLog {
    let log = this.logs.get(bot.reveal());
    if (!log) {
      log = new BotLog(this.options, this.options.dedupMaxIds ?? DEFAULT_DEDUP_MAX_IDS);
      this.logs.set(bot.reveal(), log);
    }
    return log;
  }

  private existingLog(bot: AppSecret): BotLog | undefined {
    return this.logs.get(bot.reveal());
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  async publish(bot: AppSecret, event: IncomingEvent): Promise<PublishResult> {
    this.assertOpen();
    const now = this.nowMs();
    const log = this.log(bot);
    if (event.eventId !== undefined && log.isDuplicate(event.eventId, now)) return { status: 'duplicate' };
    const stored = log.append(event, now);
    for (const listener of log.listeners) {
      try {
        listener(stored);
      } catch {
        // A failing subscriber must not affect the publisher or the other subscribers.
      }
    }
    return { status: 'accepted', position: { epoch: stored.epoch, seq: stored.seq } };
  }

  /** In-process delivery cannot miss events, so `onResync` is never called. */
  async subscribe(bot: AppSecret, listener: BusListener, _options?: SubscribeOptions): Promise<BusSubscription> {
    this.assertOpen();
    const log = this.log(bot);
    log.listeners.add(listener);
    return {
      close: async () => {
        log.listeners.delete(listener);
      },
    };
  }

  async head(bot: AppSecret): Promise<StreamPosition> {
    this.assertOpen();
    const log = this.existingLog(bot);
    return log ? log.headPosition() : { epoch: '', seq: 0 };
  }

  async history(bot: AppSecret, cursor?: StreamPosition): Promise<HistorySlice> {
    this.assertOpen();
    const log = this.log(bot);
    log.trim(this.nowMs());
    const head = log.headPosition();
    const usable = cursor !== undefined && cursor.epoch === log.epoch && cursor.seq <= log.headSeq;
    // A cursor from another numbering cannot be honoured: hand out everything retained instead.
    const events = log.after(usable ? cursor.seq : 0);
    return { head, events, complete: cursor === undefined || continuesWithoutGap(cursor, head, events) };
  }

  async locate(bot: AppSecret, eventId: string): Promise<StreamPosition | undefined> {
    this.assertOpen();
    const log = this.existingLog(bot);
    if (!log) return undefined;
    log.trim(this.nowMs());
    const seq = log.locate(eventId);
    return seq === undefined ? undefined : { epoch: log.epoch, seq };
  }

  async markDelivered(bot: AppSecret, position: StreamPosition): Promise<void> {
    this.assertOpen();
    const log = this.existingLog(bot);
    if (!log || log.epoch !== position.epoch) return;
    if (!log.delivered || log.delivered.seq < position.seq) log.delivered = position;
  }

  async deliveredPosition(bot: AppSecret): Promise<StreamPosition | undefined> {
    this.assertOpen();
    return this.existingLog(bot)?.delivered;
  }

  async publishCheck(nonce: string, body: Buffer): Promise<number> {
    this.assertOpen();
    const listeners = this.checks.get(nonce);
    for (const listener of listeners ?? []) {
      try {
        listener(body);
      } catch {
        // A failing check socket must not affect the publisher.
      }
    }
    return listeners?.size ?? 0;
  }

  async subscribeCheck(nonce: string, listener: (body: Buffer) => void): Promise<BusSubscription> {
    this.assertOpen();
    let listeners = this.checks.get(nonce);
    if (!listeners) this.checks.set(nonce, (listeners = new Set()));
    listeners.add(listener);
    return {
      close: async () => {
        listeners.delete(listener);
        if (listeners.size === 0 && this.checks.get(nonce) === listeners) this.checks.delete(nonce);
      },
    };
  }

  isReady(): boolean {
    return !this.closed;
  }

  /** Bots with a live log (retained events, remembered ids or listeners). */
  botCount(): number {
    return this.logs.size;
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [bot, log] of this.logs) {
      log.trim(now);
      if (log.isIdle()) this.logs.delete(bot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const log of this.logs.values()) log.listeners.clear();
    this.checks.clear();
  }
}
