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
  if (from.epoch === '' && from.seq === 0) from = { epoch: head.epoch, seq: 0 };
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
