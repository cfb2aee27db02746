import { describe, expect, it } from 'vitest';
import { continuesWithoutGap, type BusEvent, type StreamPosition } from '../src/index.ts';

const at = (epoch: string, seq: number): StreamPosition => ({ epoch, seq });
const events = (epoch: string, ...seqs: number[]): BusEvent[] =>
  seqs.map((seq) => ({ epoch, seq, eventId: `e${seq}`, body: Buffer.from(String(seq)), acceptedAtMs: 0 }));

describe('continuesWithoutGap', () => {
  it.each<[string, StreamPosition, StreamPosition, BusEvent[], string | undefined, boolean]>([
    ['empty log, nothing read yet', at('', 0), at('', 0), [], undefined, true],
    ['read before the first event: a numbering begun since, from its start', at('', 0), at('A', 2), events('A', 1, 2), undefined, true],
    ['read before the first event: that numbering trimmed at its start', at('', 0), at('A', 9), events('A', 8, 9), undefined, false],
    ['read before the first event: a hole in that numbering', at('', 0), at('A', 3), events('A', 1, 3), undefined, false],
    ['empty slice, cursor at the head', at('A', 5), at('A', 5), [], undefined, true],
    ['empty slice, head ahead (all trimmed)', at('A', 5), at('A', 9), [], undefined, false],
    ['exact continuation to the head', at('A', 5), at('A', 8), events('A', 6, 7, 8), undefined, true],
    ['from the start of the numbering', at('A', 0), at('A', 2), events('A', 1, 2), undefined, true],
    ['trimmed: first is past cursor + 1', at('A', 5), at('A', 9), events('A', 8, 9), undefined, false],
    ['off by one: first is cursor + 2', at('A', 5), at('A', 7), events('A', 7), undefined, false],
    ['off by one: ends before the head', at('A', 5), at('A', 8), events('A', 6, 7), undefined, false],
    ['hole in the middle', at('A', 5), at('A', 8), events('A', 6, 8), undefined, false],
    ['other epoch in the head', at('A', 5), at('B', 5), events('B', 1, 2, 3, 4, 5), undefined, false],
    ['other epoch in the events', at('A', 5), at('A', 6), events('B', 6), undefined, false],
    ['rewound: head behind the cursor', at('A', 5), at('A', 3), events('A', 1, 2, 3), undefined, false],
    ['read one early, anchor matches', at('A', 5), at('A', 6), events('A', 5, 6), 'e5', true],
    ['read one early, anchor replaced (numbering went back)', at('A', 5), at('A', 6), events('A', 5, 6), 'other', false],
    ['read one early, anchor already trimmed', at('A', 5), at('A', 6), events('A', 6), 'e5', true],
  ])('%s', (_case, from, head, slice, fromEventId, expected) => {
    expect(continuesWithoutGap(from, head, slice, fromEventId)).toBe(expected);
  });
});
