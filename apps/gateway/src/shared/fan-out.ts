/**
 * Fan-out never runs inside the publish path: a bot feed queues each event it passes on (its backlog) and this
 * scheduler — one per gateway — writes the backlogs out in `setImmediate` turns of about FANOUT_FRAMES_PER_TURN
 * frames (default FRAMES_PER_TURN), feeds taking turns. Between two turns the event loop polls for I/O, so a webhook's acknowledgement (the
 * embedded relay's ingress shares this loop) never waits behind thousands of socket writes, whatever a bot's client
 * count. How far a feed may fall behind is bounded by FANOUT_BACKLOG_MAX_BYTES (bot-feeds.ts says what happens then).
 * A feed with many clients in a steady stream waits out a short window between turns (FANOUT_COALESCE_MS, below).
 */
export const FRAMES_PER_TURN = 512;

/**
 * FANOUT_COALESCE_MS / FANOUT_COALESCE_MIN_CLIENTS defaults. A socket write costs about as much as 4–8 small frames
 * (bench: one write per frame 8.6–9.8 µs of CPU), so a feed with many clients spends most of its fan-out on write
 * calls when events arrive one per turn. Spacing such a feed's turns by a few milliseconds under a steady stream lets
 * each write carry the events of that window (Centrifugo's write delay does the same); a first event after a quiet
 * spell is written at once, and feeds with fewer clients (a bot's own process or two) never wait. 15 ms: at 500
 * events/s to 100 clients a write then carries ~7 events, and the CPU per frame was 0.77× that of 10 ms for +2.5 ms at
 * the median (docs/benchmarks.md, "the coalescing window").
 */
export const COALESCE_MS = 15;
export const COALESCE_MIN_CLIENTS = 32;

export interface CoalesceRule {
  /** FANOUT_COALESCE_MS: the least time from one turn to the next while a wide feed has events queued (0: none). */
  readonly windowMs: number;
  /** FANOUT_COALESCE_MIN_CLIENTS: a feed with at least this many clients counts as wide. */
  readonly minClients: number;
}

/**
 * How long the next turn waits for more events to join it: the rest of the window since the last turn, if wide — unless
 * the last run of turns took half the window or more. Such a run (2 000 clients: ~15 ms) already hands every client
 * the events that arrived while it went round, in the same write; holding the next one would add the wait to a
 * latency the run's length already makes long (measured: a 15 ms window without this put 2 of 12 rounds of 2 000
 * clients at 50 events/s past a 50 ms p99).
 */
export function coalesceWaitMs(rule: CoalesceRule, clientCount: number, sinceLastTurnMs: number, lastRunMs = 0): number {
  if (rule.windowMs <= 0 || clientCount < rule.minClients || sinceLastTurnMs >= rule.windowMs) return 0;
  if (lastRunMs >= rule.windowMs / 2) return 0;
  // A clock that went backwards (sinceLastTurnMs < 0) must not stall the fan-out for longer than one window.
  return Math.min(rule.windowMs, rule.windowMs - sinceLastTurnMs);
}

/** What the scheduler asks of a feed with a backlog. */
export interface FanOutSource {
  /** Visits at most `budget` clients; true while something is still queued. */
  fanOut(budget: number): boolean;
  /** How many clients the source writes to (wide sources wait for their events to coalesce). */
  readonly clientCount: number;
}

export class FanOutScheduler {
  private readonly waiting = new Set<FanOutSource>();
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private lastTurnAtMs = Number.NEGATIVE_INFINITY;
  /** How long the last run of turns took, from the turn that started it to the one that left nothing queued. */
  private lastRunMs = 0;

  constructor(
    private readonly framesPerTurn = FRAMES_PER_TURN,
    private readonly coalesce: CoalesceRule = { windowMs: COALESCE_MS, minClients: COALESCE_MIN_CLIENTS },
    private readonly nowMs: () => number = performance.now.bind(performance),
  ) {}

  /**
   * The source has something queued: it gets its share of the next turn — the next event-loop turn, or, for a wide
   * source in a steady stream, the end of the coalescing window (whatever else is queued by then goes in it too).
   */
  schedule(source: FanOutSource): void {
    this.waiting.add(source);
    if (this.scheduled) return;
    this.scheduled = true;
    const waitMs = coalesceWaitMs(this.coalesce, source.clientCount, this.nowMs() - this.lastTurnAtMs, this.lastRunMs);
    if (waitMs > 0) setTimeout(this.firstTurn, waitMs).unref();
    else setImmediate(this.firstTurn);
  }

  /** The source has nothing to write any more (stopped). */
  forget(source: FanOutSource): void {
    this.waiting.delete(source);
    if (this.waiting.size === 0) this.wakeIdle();
  }

  /** Resolves once nothing is queued (at once when nothing is). */
  idle(): Promise<void> {
    if (this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * A turn that schedule() asked for: the window is measured from it, not from the turns that go on writing a long
   * pass (2 000 clients take four of FRAMES_PER_TURN), so a bot whose events come further apart than the window and
   * whose passes are long is never held.
   */
  private readonly firstTurn = (): void => {
    this.lastTurnAtMs = this.nowMs();
    this.turn();
  };

  private readonly turn = (): void => {
    this.scheduled = false;
    const share = Math.max(1, Math.ceil(this.framesPerTurn / Math.max(1, this.waiting.size)));
    for (const source of [...this.waiting]) if (!source.fanOut(share)) this.waiting.delete(source);
    if (this.waiting.size > 0) {
      this.scheduled = true;
      setImmediate(this.turn);
    } else {
      this.lastRunMs = this.nowMs() - this.lastTurnAtMs;
      this.wakeIdle();
    }
  };

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
