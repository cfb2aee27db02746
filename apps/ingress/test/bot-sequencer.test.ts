import { describe, expect, it } from 'vitest';
import { BotSequencer } from '../src/bot-sequencer.ts';

/**
 * Each case: webhooks in acceptance order (`bot`, and whether its verdict is known at once), the order in which the
 * pending verdicts come back, and the order the steps (publishes) must start in.
 */
interface Case {
  readonly name: string;
  /** `A1`: bot A, pending verdict; `A1!`: bot A, verdict already known (inline). */
  readonly accepted: readonly string[];
  /** Pending verdicts, in the order they come back (names without `!`). */
  readonly verdicts: readonly string[];
  readonly started: readonly string[];
}

const CASES: Case[] = [
  { name: 'verdicts in order', accepted: ['A1', 'A2', 'A3'], verdicts: ['A1', 'A2', 'A3'], started: ['A1', 'A2', 'A3'] },
  {
    name: 'verdicts reversed: still acceptance order',
    accepted: ['A1', 'A2', 'A3'],
    verdicts: ['A3', 'A2', 'A1'],
    started: ['A1', 'A2', 'A3'],
  },
  { name: 'the middle one last', accepted: ['A1', 'A2', 'A3'], verdicts: ['A1', 'A3', 'A2'], started: ['A1', 'A2', 'A3'] },
  { name: 'bots do not wait for each other', accepted: ['A1', 'B1', 'A2'], verdicts: ['B1', 'A2', 'A1'], started: ['B1', 'A1', 'A2'] },
  { name: 'a known verdict waits behind a pending one', accepted: ['A1', 'A2!'], verdicts: ['A1'], started: ['A1', 'A2!'] },
  {
    name: 'known verdicts with nothing in line run at once',
    accepted: ['A1!', 'B1!', 'A2!'],
    verdicts: [],
    started: ['A1!', 'B1!', 'A2!'],
  },
  {
    name: 'two bots, both reversed',
    accepted: ['A1', 'B1', 'A2', 'B2'],
    verdicts: ['B2', 'A2', 'B1', 'A1'],
    started: ['B1', 'B2', 'A1', 'A2'],
  },
];

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('BotSequencer', () => {
  it.each(CASES)('$name', async ({ accepted, verdicts, started: expected }) => {
    const sequencer = new BotSequencer();
    const started: string[] = [];
    const pending = new Map<string, ReturnType<typeof deferred<string>>>();
    const results = accepted.map((name) => {
      const known = name.endsWith('!');
      const verdict = known ? name : deferred<string>();
      if (!known) pending.set(name, verdict as ReturnType<typeof deferred<string>>);
      return sequencer.run(name[0]!, known ? name : (verdict as ReturnType<typeof deferred<string>>).promise, (v) => {
        started.push(v);
        return `published ${v}`;
      });
    });
    for (const name of verdicts) {
      pending.get(name)!.resolve(name);
      // Let every step this verdict unblocks run before the next verdict arrives.
      await new Promise<void>((r) => setImmediate(r));
    }
    expect(await Promise.all(results.map(async (x) => x))).toEqual(accepted.map((n) => `published ${n}`));
    expect(started).toEqual(expected);
    expect(sequencer.botsWaiting).toBe(0);
  });

  it('runs the next step once the previous one has started, without waiting for it to finish', async () => {
    const sequencer = new BotSequencer();
    const first = deferred<string>();
    const steps: string[] = [];
    const a = sequencer.run('A', Promise.resolve(1), () => {
      steps.push('A1');
      return first.promise;
    });
    const b = sequencer.run('A', Promise.resolve(2), () => {
      steps.push('A2');
      return 'A2 done';
    });
    expect(await b).toBe('A2 done');
    expect(steps).toEqual(['A1', 'A2']);
    first.resolve('A1 done');
    expect(await a).toBe('A1 done');
  });

  it('a step that throws rejects its own result only', async () => {
    const sequencer = new BotSequencer();
    const a = sequencer.run('A', Promise.resolve(1), () => {
      throw new Error('broken step');
    });
    const b = sequencer.run('A', Promise.resolve(2), (v) => v * 10);
    await expect(a).rejects.toThrow('broken step');
    expect(await b).toBe(20);
  });
});
