import { describe, expect, it } from 'vitest';
import { continuesWithoutGap, withLiveFront, type BusEvent, type StreamPosition } from '../src/index.ts';

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

describe('withLiveFront', () => {
  const seqs = (list: readonly BusEvent[]) => list.map((e) => `${e.epoch}${e.seq}`);
  it.each<[string, StreamPosition, StreamPosition, BusEvent[], BusEvent[], string[], boolean]>([
    ['no live copies: the history as it is', at('A', 1), at('A', 6), events('A', 4, 5, 6), [], ['A4', 'A5', 'A6'], false],
    [
      'the trimmed front heard live',
      at('A', 1),
      at('A', 6),
      events('A', 4, 5, 6),
      events('A', 2, 3, 4, 5, 6),
      ['A2', 'A3', 'A4', 'A5', 'A6'],
      true,
    ],
    [
      'live copies out of order and repeated',
      at('A', 1),
      at('A', 6),
      events('A', 4, 5, 6),
      events('A', 3, 2, 3),
      ['A2', 'A3', 'A4', 'A5', 'A6'],
      true,
    ],
    [
      'read one early: the anchor stays first',
      at('A', 5),
      at('A', 9),
      [...events('A', 5), ...events('A', 8, 9)],
      events('A', 6, 7),
      ['A5', 'A6', 'A7', 'A8', 'A9'],
      true,
    ],
    [
      'part of the front not heard: still a loss',
      at('A', 1),
      at('A', 6),
      events('A', 4, 5, 6),
      events('A', 3),
      ['A3', 'A4', 'A5', 'A6'],
      false,
    ],
    ['nothing trimmed: live copies add nothing', at('A', 1), at('A', 3), events('A', 2, 3), events('A', 2, 3, 4), ['A2', 'A3'], true],
    ['the history empty after from: live up to the head only', at('A', 1), at('A', 3), [], events('A', 2, 3, 4), ['A2', 'A3'], true],
    [
      'read before the first event: the new numbering from its start',
      at('', 0),
      at('B', 5),
      events('B', 3, 4, 5),
      events('B', 1, 2, 3),
      ['B1', 'B2', 'B3', 'B4', 'B5'],
      true,
    ],
    [
      'live copies of another numbering are not taken',
      at('A', 1),
      at('A', 6),
      events('A', 4, 5, 6),
      events('B', 2, 3),
      ['A4', 'A5', 'A6'],
      false,
    ],
    [
      'the head in another numbering: nothing taken',
      at('A', 1),
      at('B', 3),
      events('B', 1, 2, 3),
      events('A', 2, 3),
      ['B1', 'B2', 'B3'],
      false,
    ],
  ])('%s', (_case, from, head, history, live, expected, continues) => {
    const merged = withLiveFront(from, head, history, live);
    expect(seqs(merged)).toEqual(expected);
    expect(continuesWithoutGap(from, head, merged)).toBe(continues);
  });
});
