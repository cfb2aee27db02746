/**
 * Fan-out never runs inside the publish path: a bot feed queues each event it passes on (its backlog) and this
 * scheduler — one per gateway — writes the backlogs out in `setImmediate` turns of about FANOUT_FRAMES_PER_TURN
 * frames (default FRAMES_PER_TURN), feeds taking turns. Between two turns the event loop polls for I/O, so a webhook's acknowledgement (the
 * embedded relay's ingress shares this loop) never waits behind thousands of socket writes, whatever a bot's client
 * count. How far a feed may fall behind is bounded by FANOUT_BACKLOG_MAX_BYTES (bot-feeds.ts says what happens then).
 */
export const FRAMES_PER_TURN = 512;

/** What the scheduler asks of a feed with a backlog. */
export interface FanOutSource {
  /** Visits at most `budget` clients; true while something is still queued. */
  fanOut(budget: number): boolean;
}

export class FanOutScheduler {
  private readonly waiting = new Set<FanOutSource>();
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly framesPerTurn = FRAMES_PER_TURN) {}

  /** The source has something queued: it gets its share of the next turn. */
  schedule(source: FanOutSource): void {
    this.waiting.add(source);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
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

  private readonly turn = (): void => {
    this.scheduled = false;
    const share = Math.max(1, Math.ceil(this.framesPerTurn / Math.max(1, this.waiting.size)));
    for (const source of [...this.waiting]) if (!source.fanOut(share)) this.waiting.delete(source);
    if (this.waiting.size > 0) {
      this.scheduled = true;
      setImmediate(this.turn);
    } else this.wakeIdle();
  };

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
