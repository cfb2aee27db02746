import { describe, expect, it } from 'vitest';
import { coalesceWaitMs, FanOutScheduler, type CoalesceRule, type FanOutSource } from '../src/shared/fan-out.ts';

describe('coalesceWaitMs (FANOUT_COALESCE_MS, FANOUT_COALESCE_MIN_CLIENTS)', () => {
  const rule: CoalesceRule = { windowMs: 5, minClients: 32 };
  it.each([
    // clients, ms since the last turn, how long the last run of turns took → wait
    [200, 1, 0, 4],
    [200, 0, 0, 5],
    [200, 4.5, 0, 0.5],
    [200, 5, 0, 0], // the window is over: at once
    [200, 50, 0, 0], // a first event after a quiet spell: at once
    [200, Number.POSITIVE_INFINITY, 0, 0], // no turn yet
    [32, 1, 0, 4], // exactly the threshold counts as wide
    [31, 1, 0, 0], // fewer clients: never delayed
    [1, 0, 0, 0],
    [200, -100, 0, 5], // a clock that went backwards waits one window at most
    [200, 1, 2.4, 4], // a short last run: held as usual
    [2000, 3, 2.5, 0], // a run of half the window or more already gathered what came meanwhile: at once
    [2000, 1, 40, 0],
  ])('%i clients, %f ms after the last turn, last run %f ms → waits %f ms', (clients, sinceMs, lastRunMs, waitMs) => {
    expect(coalesceWaitMs(rule, clients, sinceMs, lastRunMs)).toBe(waitMs);
  });

  it('waits for nothing when the window is 0', () => {
    expect(coalesceWaitMs({ windowMs: 0, minClients: 1 }, 10_000, 0)).toBe(0);
  });
});

/** A feed stand-in: records how many events each of its turns wrote. */
class RecordingSource implements FanOutSource {
  readonly turns: number[] = [];
  queued = 0;
  /** Turns after which the source still has something queued (a long pass over many clients). */
  moreTurns = 0;
  /** Runs inside each turn (the test moves its clock there: a turn takes time). */
  onTurn: () => void = () => undefined;
  constructor(readonly clientCount: number) {}
  fanOut(): boolean {
    this.onTurn();
    this.turns.push(this.queued);
    this.queued = 0;
    return this.moreTurns-- > 0;
  }
}

const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FanOutScheduler coalescing', () => {
  /** A scheduler on a clock the test moves; its first turn has just run at t = 0. */
  async function afterFirstTurn(clients: number) {
    let nowMs = 0;
    const scheduler = new FanOutScheduler(512, { windowMs: 5, minClients: 32 }, () => nowMs);
    const source = new RecordingSource(clients);
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate(); // no turn before: the first event goes at once
    expect(source.turns).toEqual([1]);
    return { scheduler, source, at: (ms: number) => (nowMs = ms) };
  }

  it("holds a wide feed's next turn to the end of the window, and writes what arrived meanwhile in it", async () => {
    const { scheduler, source, at } = await afterFirstTurn(200);
    at(1);
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate();
    expect(source.turns).toEqual([1]); // not in the next event-loop turn
    source.queued = 2;
    scheduler.schedule(source);
    await scheduler.idle();
    expect(source.turns).toEqual([1, 2]); // one turn for both
  });

  it('never holds a feed with fewer clients than the threshold', async () => {
    const { scheduler, source, at } = await afterFirstTurn(31);
    at(1);
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate();
    expect(source.turns).toEqual([1, 1]);
  });

  it('writes the first event after a quiet spell at once, however many clients', async () => {
    const { scheduler, source, at } = await afterFirstTurn(2000);
    at(5);
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate();
    expect(source.turns).toEqual([1, 1]);
  });

  it('does not hold the turn after a run that took half the window or more (its clients are slow to go round already)', async () => {
    const { scheduler, source, at } = await afterFirstTurn(2000);
    at(0.5);
    source.queued = 1;
    source.moreTurns = 1;
    source.onTurn = () => at(3); // a two-turn run within the window (held), ending at t = 3: it took 2.5 ms of the 5
    scheduler.schedule(source);
    await scheduler.idle();
    expect(source.turns).toEqual([1, 1, 0]);
    source.onTurn = () => undefined;
    at(3.5); // within the window of the run that started at t = 0.5
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate();
    expect(source.turns).toEqual([1, 1, 0, 1]); // at once
  });

  it('measures the window from the turn that started a pass, not from the turns that go on writing it', async () => {
    const { scheduler, source, at } = await afterFirstTurn(2000);
    at(1);
    source.queued = 1;
    source.moreTurns = 1; // this pass takes two turns…
    source.onTurn = () => at(5); // …and its first one runs until t = 5, so its follow-up starts then
    scheduler.schedule(source);
    await scheduler.idle();
    expect(source.turns).toEqual([1, 1, 0]);
    source.onTurn = () => undefined;
    at(7); // 6 ms after the turn that started the pass (past the 5 ms window), 2 ms after its follow-up
    source.queued = 1;
    scheduler.schedule(source);
    await nextImmediate();
    expect(source.turns).toEqual([1, 1, 0, 1]);
  });
});
