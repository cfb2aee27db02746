import type { BusEvent } from './types.ts';

/** What the table reads of its bot's history: retained events are seqs firstRetainedSeq()… in order. */
export interface RetainedEvents {
  firstRetainedSeq(): number;
  /** The retained event numbered `seq` (firstRetainedSeq() ≤ seq ≤ the head). */
  eventAt(seq: number): BusEvent;
}

/** An expiry from a clock that gives fractional ms or ms beyond 2^50 (an injected one): kept as it is, exactly. */
interface AbsoluteExpiry {
  readonly expiresAtMs: number;
}

/**
 * Offsets within ±2^29 stay small integers (Smis) once doubled plus one, even where V8 compresses pointers (31-bit
 * Smis); an epoch-ms expiry (~1.8e12) would get a 16-byte HeapNumber of its own.
 */
const SMI_OFFSET_LIMIT = 2 ** 29 - 1;
/** Bases and expiries up to 2^50 keep 2 × offset + 1 within 2^53, where every integer is exact. */
const MAX_OFFSET_BASE_MS = 2 ** 50;

/** The retained event's seq an id's value stands for (even values: 2 × seq), or undefined for a detached expiry. */
function retainedSeqOf(value: number | AbsoluteExpiry): number | undefined {
  return typeof value === 'number' && value % 2 === 0 ? value / 2 : undefined;
}

/**
 * One bot's event ids, in ONE insertion-ordered map, for both of their uses: `locate` (an id's latest seq while that
 * event is retained) and retry de-duplication (an id is a duplicate until its window, `dedupWindowMs` after its event
 * was accepted, ends; at most `maxIds` ids are remembered, the oldest forgotten first).
 *
 * An id's value is even while its latest event is retained: 2 × seq — its expiry is that event's acceptedAtMs + the
 * window, read from the history. When the event leaves the history and the id is still remembered, the value becomes
 * odd: 2 × (expiry − baseMs) + 1, a Smi, no HeapNumber. (A clock giving fractional ms, or ms beyond 2^50, switches the
 * bot to AbsoluteExpiry objects: exact, just larger.) The base moves, every odd value rewritten exactly, when an expiry
 * lies 2^29 ms (6 days) from it.
 *
 * Expiries are set in insertion order, so remembered ids are a suffix of the map: the ids that left the history first,
 * then retained ones. Retained ids forgotten for dedup (expired, or past maxIds) but still locatable are the retained
 * seqs below `forgottenBelowSeq`, found through the history (amortised O(1): that bound only moves forward).
 */
export class EventIdTable {
  private readonly valueById = new Map<string, number | AbsoluteExpiry>();
  /** Odd values are 2 × (expiry − baseMs) + 1: exact, as base and expiries are integers of at most 2^50. */
  private baseMs: number | undefined;
  private absolute = false;
  /** Retained events numbered below this are not remembered for dedup (their ids stay for `locate`). */
  private forgottenBelowSeq = 0;
  /** Ids remembered for dedup (expired ones not yet forgotten included): what `maxIds` bounds. */
  private rememberedCount = 0;
  /**
   * No remembered id expires before this (a lower bound: the oldest one's expiry, or less). Until then
   * `forgetExpired` need not look at the map.
   */
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;
  /**
   * The map's first key, read with one long-lived iterator. A Map keeps a deleted entry's slot until it rehashes, so
   * a new iterator per look (`keys().next()`) walks every slot freed at the front since then — up to the table's
   * capacity, ~50 µs per event here with 120 000 ids in the window — where this one walks each slot once. Every
   * delete of `firstId` clears it (re-added, its entry is at the end now); the iterator is then already past it.
   */
  private firstId: string | undefined;
  private firstIdIterator: MapIterator<string> | undefined;

  constructor(
    private readonly history: RetainedEvents,
    private readonly dedupWindowMs: number,
    private readonly maxIds: number,
  ) {}

  /** How many ids are remembered for de-duplication. */
  get rememberedIds(): number {
    return this.rememberedCount;
  }

  /** True while `eventId` is remembered and its window has not ended at `nowMs`. */
  isDuplicate(eventId: string, nowMs: number): boolean {
    const value = this.valueById.get(eventId);
    if (value === undefined) return false;
    const seq = retainedSeqOf(value);
    if (seq !== undefined) return seq >= this.forgottenBelowSeq && this.retainedExpiryMs(seq) > nowMs;
    return this.detachedExpiryMs(value) > nowMs;
  }

  /** The seq of the retained event that last carried `eventId`. */
  locate(eventId: string): number | undefined {
    const value = this.valueById.get(eventId);
    return value === undefined ? undefined : retainedSeqOf(value);
  }

  /** `event` (just appended to the history) carries an id: remembered anew, as the newest, and locatable. */
  added(event: BusEvent & { readonly eventId: string }): void {
    const previous = this.valueById.get(event.eventId);
    if (previous !== undefined) {
      if (this.isRemembered(previous)) this.rememberedCount--;
      this.deleteId(event.eventId);
    }
    this.valueById.set(event.eventId, 2 * event.seq);
    this.rememberedCount++;
    const expiresAtMs = event.acceptedAtMs + this.dedupWindowMs;
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.rememberedCount > this.maxIds) this.forgetOldest();
  }

  /** `event` left the history: its id is no longer locatable, and is kept only while remembered for dedup. */
  removed(event: BusEvent): void {
    if (event.eventId === undefined || this.valueById.get(event.eventId) !== 2 * event.seq) return;
    if (event.seq < this.forgottenBelowSeq) this.deleteId(event.eventId);
    else this.valueById.set(event.eventId, this.detachedValue(event.acceptedAtMs + this.dedupWindowMs));
  }

  /** Forgets ids from the oldest on while their window has ended (an unexpired id stops it, as insertion order is kept). */
  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    while (this.rememberedCount > 0) {
      const detached = this.oldestDetached();
      const seq = detached ? 0 : this.oldestRememberedRetainedSeq();
      const expiresAtMs = detached ? this.detachedExpiryMs(detached[1]) : this.retainedExpiryMs(seq);
      if (expiresAtMs > nowMs) {
        this.expiresNoSoonerMs = expiresAtMs;
        return;
      }
      if (detached) this.deleteId(detached[0]);
      else this.forgottenBelowSeq = seq + 1;
      this.rememberedCount--;
    }
  }

  private isRemembered(value: number | AbsoluteExpiry): boolean {
    const seq = retainedSeqOf(value);
    return seq === undefined || seq >= this.forgottenBelowSeq;
  }

  private retainedExpiryMs(seq: number): number {
    return this.history.eventAt(seq).acceptedAtMs + this.dedupWindowMs;
  }

  private detachedExpiryMs(value: number | AbsoluteExpiry): number {
    return typeof value === 'number' ? (value - 1) / 2 + this.baseMs! : value.expiresAtMs;
  }

  /** The oldest remembered id's entry: the map's first if its event left the history, else found in the history. */
  private oldestDetached(): [string, number | AbsoluteExpiry] | undefined {
    if (this.firstId === undefined) {
      this.firstIdIterator ??= this.valueById.keys();
      const next = this.firstIdIterator.next();
      if (next.done === true) {
        this.firstIdIterator = undefined; // an exhausted iterator never sees later entries
        return undefined;
      }
      this.firstId = next.value;
    }
    const value = this.valueById.get(this.firstId)!;
    return retainedSeqOf(value) === undefined ? [this.firstId, value] : undefined;
  }

  private deleteId(eventId: string): void {
    this.valueById.delete(eventId);
    if (eventId === this.firstId) this.firstId = undefined;
  }

  /** The seq of the oldest remembered retained id (with no id left the history still remembered). */
  private oldestRememberedRetainedSeq(): number {
    let seq = Math.max(this.forgottenBelowSeq, this.history.firstRetainedSeq());
    for (;;) {
      const { eventId } = this.history.eventAt(seq);
      if (eventId !== undefined && this.valueById.get(eventId) === 2 * seq) break;
      seq++;
    }
    // Nothing below `seq` is remembered: the next search starts there.
    this.forgottenBelowSeq = seq;
    return seq;
  }

  /** Forgets the oldest remembered id (there is one): deleted if its event left the history, else only for dedup. */
  private forgetOldest(): void {
    const detached = this.oldestDetached();
    if (detached) this.deleteId(detached[0]);
    else this.forgottenBelowSeq = this.oldestRememberedRetainedSeq() + 1;
    this.rememberedCount--;
  }

  private detachedValue(expiresAtMs: number): number | AbsoluteExpiry {
    if (this.absolute) return { expiresAtMs };
    if (!Number.isInteger(expiresAtMs) || Math.abs(expiresAtMs) > MAX_OFFSET_BASE_MS) {
      this.rebase(0, true);
      return { expiresAtMs };
    }
    this.baseMs ??= expiresAtMs;
    const offset = expiresAtMs - this.baseMs;
    if (offset >= -SMI_OFFSET_LIMIT && offset <= SMI_OFFSET_LIMIT) return 2 * offset + 1;
    this.rebase(expiresAtMs, false);
    return 1;
  }

  /** Rewrites every odd value for a new base (exact: bases and expiries are integers of at most 2^50), or as absolute expiries. */
  private rebase(newBaseMs: number, toAbsolute: boolean): void {
    for (const [id, value] of this.valueById) {
      if (typeof value !== 'number' || value % 2 === 0) continue;
      const expiresAtMs = this.detachedExpiryMs(value);
      this.valueById.set(id, toAbsolute ? { expiresAtMs } : 2 * (expiresAtMs - newBaseMs) + 1);
    }
    this.baseMs = newBaseMs;
    this.absolute = toAbsolute;
  }
}
