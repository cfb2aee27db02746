import { describe, expect, it } from 'vitest';
import { TurnBatches } from '../src/turn-batches.ts';

/** A TurnBatches whose sends are recorded and answered by `answer` (each item doubled, by default). */
function recorded(maxItems: number, answer: (items: number[]) => Promise<string[]> = async (items) => items.map((i) => `r${i}`)) {
  const sends: number[][] = [];
  const batches = new TurnBatches<number, string>((items) => {
    sends.push(items);
    return answer(items);
  }, maxItems);
  return { sends, batches };
}

const settled = (promises: Promise<string>[]) =>
  Promise.all(
    promises.map((p) =>
      p.then(
        (value) => `ok ${value}`,
        (err: Error) => `err ${err.message}`,
      ),
    ),
  );

describe('TurnBatches', () => {
  it.each([
    {
      case: 'one key in one turn: one send, in the order added',
      adds: [
        ['a', 1],
        ['a', 2],
        ['a', 3],
      ] as const,
      maxItems: 10,
      sends: [[1, 2, 3]],
    },
    {
      case: 'keys apart: one send each, in the order the keys first came',
      adds: [
        ['a', 1],
        ['b', 2],
        ['a', 3],
        ['b', 4],
      ] as const,
      maxItems: 10,
      sends: [
        [1, 3],
        [2, 4],
      ],
    },
    {
      case: 'a batch that reaches maxItems goes at once; the rest of its key follows with the turn’s other batches',
      adds: [
        ['a', 1],
        ['a', 2],
        ['b', 3],
        ['a', 4],
      ] as const,
      maxItems: 2,
      sends: [[1, 2], [3], [4]],
    },
    {
      case: 'maxItems 1: every item alone, in order',
      adds: [
        ['a', 1],
        ['a', 2],
      ] as const,
      maxItems: 1,
      sends: [[1], [2]],
    },
  ])('$case', async ({ adds, maxItems, sends: expected }) => {
    const { sends, batches } = recorded(maxItems);
    const results = await settled(adds.map(([key, item]) => batches.add(key, item)));
    expect(sends).toEqual(expected);
    expect(results).toEqual(adds.map(([, item]) => `ok r${item}`));
  });

  it('a later turn starts a new batch', async () => {
    const { sends, batches } = recorded(10);
    const first = batches.add('a', 1);
    await first;
    await batches.add('a', 2);
    expect(sends).toEqual([[1], [2]]);
  });

  it.each([
    { case: 'the send rejects', answer: () => Promise.reject(new Error('redis down')), error: 'redis down' },
    {
      case: 'the send throws before it returns a promise',
      answer: () => {
        throw new Error('bad arguments');
      },
      error: 'bad arguments',
    },
    { case: 'the send answers fewer results than items', answer: async () => ['r1'], error: 'a batch of 2 got 1 results' },
  ])('every item of the batch fails with it when $case; other batches are untouched', async ({ answer, error }) => {
    const { batches } = recorded(10, async (items) => (items.includes(1) ? answer() : items.map((i) => `r${i}`)));
    expect(await settled([batches.add('a', 1), batches.add('a', 2), batches.add('b', 3)])).toEqual([
      `err ${error}`,
      `err ${error}`,
      'ok r3',
    ]);
  });
});
