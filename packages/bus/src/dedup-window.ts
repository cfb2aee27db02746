import { seededIdDigest, type IdDigest } from './id-digest.ts';

const MIN_CAPACITY = 64;

/**
 * One bot's retry de-duplication: the ids accepted in the last `windowMs`, at most `maxIds` of them (the oldest forgotten
 * first), in insertion order — the two Maps' semantics it replaced (packages/bus/test/memory-event-ids.test.ts compares
 * them), in typed arrays. Each record also keeps the seq of the event that carried its id, for `locate`.
 *
 * Why not a Map of the ids: each remembered id cost ~135 bytes of RSS for a 40-character id (the string, the Map's
 * entry and its doubling, old-space slack) and more for the platform's ~87-character ones — ~19 MiB after the bench's
 * 150 000 events, ~37 MiB for a bot at the 200 000 cap. Here a record is its id's 16-byte digest, an 8-byte expiry and
 * an 8-byte seq in a ring (insertion order: ids are forgotten from the front), found through an open-addressing index
 * of ring positions (two 4-byte slots per record): 40 bytes per record whatever the id's length, 40–80 per remembered
 * id as the ring doubles (~52 at the 200 000 cap), and nothing for the garbage collector to trace.
 *
 * Re-adding an id (accepted again after its window ended) leaves a tombstone (seq 0) at its old place; tombstones are
 * dropped as they reach the front, or when the ring is rebuilt.
 */
export class DedupWindow {
  /** Ring of records, `capacity` long: digest words at 4·p…4·p+3, expiry and seq at p; seq 0 marks a tombstone. */
  private digests: Int32Array;
  private expiries: Float64Array;
  private seqs: Float64Array;
  private capacity: number;
  /** Ring position of the oldest record, and how many records (tombstones included) follow from there. */
  private front = 0;
  private length = 0;
  /** Records that are not tombstones: the ids remembered. */
  private live = 0;
  /** Open addressing with linear probing, 2 × capacity slots: ring position + 1, or 0 for an empty slot. */
  private slots: Int32Array;
  /**
   * Until this, `forgetExpired` need not look: the front record's expiry when it last looked, or the earliest expiry
   * added since (with a clock that steps back, a later record may expire sooner; it waits for its turn at the front).
   */
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;
  /** The last id digested, and its digest: `isDuplicate` and `added` ask about the same id one after the other. */
  private lastId: string | undefined;
  private readonly lastDigest = new Int32Array(4);

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
    private readonly digestOf: IdDigest = seededIdDigest,
  ) {
    this.capacity = MIN_CAPACITY;
    this.digests = new Int32Array(4 * MIN_CAPACITY);
    this.expiries = new Float64Array(MIN_CAPACITY);
    this.seqs = new Float64Array(MIN_CAPACITY);
    this.slots = new Int32Array(2 * MIN_CAPACITY);
  }

  /** How many ids are remembered (expired ones not yet forgotten included). */
  get rememberedIds(): number {
    return this.live;
  }

  /** Records the ring has room for (40 bytes each with their index slots): grows with the ids, shrinks after a burst. */
  get recordCapacity(): number {
    return this.capacity;
  }

  /** True while `eventId` is remembered and its window has not ended at `nowMs`. */
  isDuplicate(eventId: string, nowMs: number): boolean {
    const slot = this.slotOf(this.digest(eventId));
    return slot >= 0 && this.expiries[this.slots[slot]! - 1]! > nowMs;
  }

  /**
   * The seq `eventId` was last added with, while it is remembered (expired or not) — or, once in 2^128, another id's
   * with the same digest: the caller checks the event at that seq.
   */
  seqOf(eventId: string): number | undefined {
    const slot = this.slotOf(this.digest(eventId));
    return slot >= 0 ? this.seqs[this.slots[slot]! - 1] : undefined;
  }

  /**
   * The seq of the oldest remembered id, or undefined if none is. Ids are added in seq order, so every event numbered
   * from there on that carried an id has it remembered (at its latest seq): only older events can carry a forgotten id.
   */
  oldestSeq(): number | undefined {
    return this.dropFrontTombstones() ? this.seqs[this.front] : undefined;
  }

  /**
   * Event `seq` (≥ 1, above every seq added before) carried `eventId` and was accepted at `acceptedAtMs`: remembered
   * anew, as the newest, until its window ends.
   */
  added(eventId: string, acceptedAtMs: number, seq: number): void {
    if (!(seq >= 1)) throw new RangeError(`DedupWindow: seq ${seq} is not a positive number`);
    const digest = this.digest(eventId);
    const slot = this.slotOf(digest);
    if (slot >= 0) {
      this.seqs[this.slots[slot]! - 1] = 0;
      this.live--;
      this.vacate(slot);
    }
    if (this.length === this.capacity) this.rebuild(this.live * 2 > this.capacity ? this.capacity * 2 : this.capacity);
    const position = (this.front + this.length) % this.capacity;
    const at = 4 * position;
    this.digests[at] = digest[0]!;
    this.digests[at + 1] = digest[1]!;
    this.digests[at + 2] = digest[2]!;
    this.digests[at + 3] = digest[3]!;
    const expiresAtMs = acceptedAtMs + this.windowMs;
    this.expiries[position] = expiresAtMs;
    this.seqs[position] = seq;
    this.length++;
    this.live++;
    this.occupy(position);
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.live > this.maxIds) this.forgetOldest();
  }

  /** Forgets ids from the oldest on while their window has ended (an unexpired id stops it: insertion order is kept). */
  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    while (this.dropFrontTombstones()) {
      const expiresAtMs = this.expiries[this.front]!;
      if (expiresAtMs > nowMs) {
        this.expiresNoSoonerMs = expiresAtMs;
        break;
      }
      this.forgetFront();
    }
    this.shrinkIfSparse();
  }

  private forgetOldest(): void {
    this.dropFrontTombstones();
    this.forgetFront();
    this.shrinkIfSparse();
  }

  /** Drops the tombstones at the front; true if a remembered id is left there. */
  private dropFrontTombstones(): boolean {
    while (this.length > 0 && this.seqs[this.front] === 0) this.popFront();
    return this.length > 0;
  }

  /** Forgets the record at the front, which is not a tombstone. */
  private forgetFront(): void {
    this.vacate(this.slotOfRecord(this.front));
    this.popFront();
    this.live--;
  }

  private popFront(): void {
    this.front = this.front + 1 === this.capacity ? 0 : this.front + 1;
    this.length--;
  }

  /** After a burst: gives the memory back once less than a quarter of the ring is used (to a ring twice the records or more). */
  private shrinkIfSparse(): void {
    let capacity = this.capacity;
    while (capacity > MIN_CAPACITY && this.length * 4 < capacity) capacity /= 2;
    if (capacity < this.capacity) this.rebuild(capacity);
  }

  private digest(eventId: string): Int32Array {
    if (eventId !== this.lastId) {
      this.digestOf(eventId, this.lastDigest);
      this.lastId = eventId;
    }
    return this.lastDigest;
  }

  /** The index slot holding `digest`'s record, or -1. */
  private slotOf(digest: Int32Array): number {
    const mask = this.slots.length - 1;
    for (let slot = digest[0]! & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      const at = 4 * (entry - 1);
      const d = this.digests;
      if (d[at] === digest[0] && d[at + 1] === digest[1] && d[at + 2] === digest[2] && d[at + 3] === digest[3]) return slot;
    }
  }

  /** The index slot of the record at ring `position` (which is indexed). */
  private slotOfRecord(position: number): number {
    const mask = this.slots.length - 1;
    let slot = this.digests[4 * position]! & mask;
    while (this.slots[slot] !== position + 1) {
      if (this.slots[slot] === 0) throw new Error(`DedupWindow: ring position ${position} is not indexed`);
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /** Indexes the record at ring `position` (its digest is not indexed yet). */
  private occupy(position: number): void {
    const mask = this.slots.length - 1;
    let slot = this.digests[4 * position]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = position + 1;
  }

  /**
   * Empties `slot` and moves later entries of its probe run back (Knuth's deletion for linear probing), so that every
   * entry stays reachable from its home slot without tombstones in the index.
   */
  private vacate(slot: number): void {
    const mask = this.slots.length - 1;
    let hole = slot;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const entry = this.slots[next]!;
      if (entry === 0) break;
      const home = this.digests[4 * (entry - 1)]! & mask;
      // The entry stays if its home lies cyclically in (hole, next]: a probe from home reaches it without the hole.
      const reachable = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!reachable) {
        this.slots[hole] = entry;
        hole = next;
      }
    }
    this.slots[hole] = 0;
  }

  /** Copies the remembered records, in order and without tombstones, into a ring of `capacity`, and re-indexes them. */
  private rebuild(capacity: number): void {
    const digests = new Int32Array(4 * capacity);
    const expiries = new Float64Array(capacity);
    const seqs = new Float64Array(capacity);
    let kept = 0;
    for (let i = 0, p = this.front; i < this.length; i++, p = p + 1 === this.capacity ? 0 : p + 1) {
      if (this.seqs[p] === 0) continue;
      for (let w = 0; w < 4; w++) digests[4 * kept + w] = this.digests[4 * p + w]!;
      expiries[kept] = this.expiries[p]!;
      seqs[kept++] = this.seqs[p]!;
    }
    this.digests = digests;
    this.expiries = expiries;
    this.seqs = seqs;
    this.capacity = capacity;
    this.front = 0;
    this.length = kept;
    this.slots = new Int32Array(2 * capacity);
    for (let p = 0; p < kept; p++) this.occupy(p);
  }
}
