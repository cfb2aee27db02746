import type { BusEvent, StreamPosition } from './types.ts';

/**
 * The no-gap rule, written once: do `events` — read from the history after `from` — continue `from` with nothing
 * missing? They do when the numbering is still `from`'s (same epoch, head not behind `from`: not rewound), the
 * first event is `from.seq + 1`, each next one follows, and the last one is the head.
 *
 * A reader that read one entry early to check that the numbering did not go back passes the event id it knows at
 * `from` as `fromEventId`: an entry at `from` that carries another id means the numbering was rewound.
 * Entries at or before `from` are otherwise ignored.
 *
 * `from` read before the bot had any event (`{epoch: '', seq: 0}`, a feed started on a new bot) is continued by
 * whatever numbering began since, from its first event: that numbering's start is not a loss. (Treating it as one
 * cut every client of a new bot whose first events reached the history but not the live subscription — a failover
 * right after them — and a client cut before its first event had no cursor to resume from: those events were lost
 * to it.)
 */
export function continuesWithoutGap(
  from: StreamPosition,
  head: StreamPosition,
  events: readonly BusEvent[],
  fromEventId?: string,
): boolean {
  from = inNumberingOf(from, head);
  if (head.epoch !== from.epoch || head.seq < from.seq) return false;
  let expected = from.seq + 1;
  for (const event of events) {
    if (event.epoch !== from.epoch) return false;
    if (event.seq <= from.seq) {
      if (event.seq === from.seq && fromEventId !== undefined && event.eventId !== fromEventId) return false;
      continue;
    }
    if (event.seq !== expected) return false;
    expected++;
  }
  return expected - 1 === head.seq;
}

/** `{epoch: '', seq: 0}` (read before the bot had any event) stands for the start of whatever numbering `head` is in. */
function inNumberingOf(from: StreamPosition, head: StreamPosition): StreamPosition {
  return from.epoch === '' && from.seq === 0 ? { epoch: head.epoch, seq: 0 } : from;
}

/**
 * A history read after `from`, with the front it has trimmed since filled from `live`: the copies of events that
 * arrived live while the read was on its way (what a feed queued meanwhile). A burst past the history's limits can
 * trim events after `from` before the read reaches Redis, and yet every one of them has reached the subscription; the
 * result then continues `from` for `continuesWithoutGap`. Live events are taken only for the numbers between `from`
 * and the history's first event after it (or its head), in `from`'s numbering, in order, each once; anything else is
 * left as it is, so a real loss still shows as one.
 */
export function withLiveFront(
  from: StreamPosition,
  head: StreamPosition,
  history: readonly BusEvent[],
  live: readonly BusEvent[],
): readonly BusEvent[] {
  const start = inNumberingOf(from, head);
  if (head.epoch !== start.epoch || live.length === 0) return history;
  const firstAfter = history.findIndex((e) => e.epoch === start.epoch && e.seq > start.seq);
  const frontEnd = firstAfter === -1 ? head.seq + 1 : history[firstAfter]!.seq;
  const bySeq = new Map<number, BusEvent>();
  for (const event of live) {
    if (event.epoch === start.epoch && event.seq > start.seq && event.seq < frontEnd && !bySeq.has(event.seq)) bySeq.set(event.seq, event);
  }
  if (bySeq.size === 0) return history;
  const front = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return firstAfter === -1 ? [...history, ...front] : [...history.slice(0, firstAfter), ...front, ...history.slice(firstAfter)];
}
