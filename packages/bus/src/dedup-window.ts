import { seededIdDigest, type IdDigest } from './id-digest.ts';

/** Records per chunk: 64 at least, then about half the ids remembered when the chunk is made, at most 4 096 (128 KiB). */
const MIN_CHUNK = 64;
const OFFSET_BITS = 12;
const MAX_CHUNK = 1 << OFFSET_BITS;
const MIN_SLOTS = 128;
/**
 * An index entry is a record's chunk number (these bits, counted modulo their range: only the chunks held must differ)
 * and its place in the chunk (OFFSET_BITS), plus one — at most 2^30, a positive Int32; 0 marks an empty slot.
 */
const CHUNK_NUMBER_BITS = 18;

/** A run of records in one buffer: expiry and seq at i (seq 0 marks a tombstone), digest words at 4·i…4·i+3. */
class Chunk {
  readonly expiries: Float64Array;
  readonly seqs: Float64Array;
  readonly digests: Int32Array;

  constructor(readonly size: number) {
    const buffer = new ArrayBuffer(32 * size);
    this.expiries = new Float64Array(buffer, 0, size);
    this.seqs = new Float64Array(buffer, 8 * size, size);
    this.digests = new Int32Array(buffer, 16 * size, 4 * size);
  }
}

/**
 * One bot's retry de-duplication: the ids accepted in the last `windowMs`, at most `maxIds` of them (the oldest forgotten
 * first), in insertion order — the two Maps' semantics it replaced (packages/bus/test/memory-event-ids.test.ts compares
 * them), in typed arrays. Each record also keeps the seq of the event that carried its id, for `locate`.
 *
 * Why not a Map of the ids: each remembered id cost ~135 bytes of RSS for a 40-character id (the string, the Map's
 * entry and its doubling, old-space slack) and more for the platform's ~87-character ones — ~19 MiB after the bench's
 * 150 000 events, ~37 MiB for a bot at the 200 000 cap. Here a record is its id's 16-byte digest, an 8-byte expiry and
 * an 8-byte seq, found through an open-addressing index (4-byte slots, an eighth to a half of them used): 40–64 bytes
 * per remembered id whatever the id's length, and nothing for the garbage collector to trace.
 *
 * Records sit in a queue of chunks (insertion order: ids are forgotten from the front, a chunk is let go once the
 * front has passed it), not in one ring that doubles: a ring that doubled to hold 150 000 ids held 262 144 records
 * (8 MiB) and, until the next full GC, the 131 072 of the ring before (4 MiB more); chunks hold the ids rounded up to
 * 4 096 and are never copied. A new chunk is sized to about half the ids remembered then, so a bot with a few ids
 * keeps 64 records (2 KiB), a burst grows by doublings up to 4 096 at a time, and after it the memory goes back
 * chunk by chunk — the last chunk too: once the chunks have room for four times the records or more, the records are
 * copied into a fitting chunk. Re-adding an id (accepted again after its window ended) leaves a tombstone (seq 0) at
 * its old place, dropped when the front reaches it, or copied out with the rest once tombstones outnumber the ids.
 */
export class DedupWindow {
  /** The chunks from the oldest; chunks[k] is numbered (firstNumber + k) modulo the chunk numbers' range. */
  private chunks: Chunk[] = [];
  private firstNumber = 0;
  private readonly numberMask: number;
  /** The oldest record's place in chunks[0], and the next free place in the last chunk. */
  private frontAt = 0;
  private backAt = 0;
  /** Records from the front to the back, tombstones included, and the records the chunks have room for. */
  private length = 0;
  private capacity = 0;
  /** Records that are not tombstones: the ids remembered. */
  private live = 0;
  /** Open addressing with linear probing: an index entry (see CHUNK_NUMBER_BITS), or 0 for an empty slot. */
  private slots = new Int32Array(MIN_SLOTS);
  /**
   * Until this, `forgetExpired` need not look: the front record's expiry when it last looked, or the earliest expiry
   * added since (with a clock that steps back, a later record may expire sooner; it waits for its turn at the front).
   */
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;
  /** The last id digested, and its digest: `isDuplicate` and `added` ask about the same id one after the other. */
  private lastId: string | undefined;
  private readonly lastDigest = new Int32Array(4);

  /** `chunkNumberBits` is for tests, which make the chunk numbers wrap around often. */
  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
    private readonly digestOf: IdDigest = seededIdDigest,
    chunkNumberBits = CHUNK_NUMBER_BITS,
  ) {
    this.numberMask = (1 << Math.min(chunkNumberBits, CHUNK_NUMBER_BITS)) - 1;
  }

  /** How many ids are remembered (expired ones not yet forgotten included). */
  get rememberedIds(): number {
    return this.live;
  }

  /** Records the chunks have room for (32 bytes each, beside the index's 4-byte slots). */
  get recordCapacity(): number {
    return this.capacity;
  }

  /** True while `eventId` is remembered and its window has not ended at `nowMs`. */
  isDuplicate(eventId: string, nowMs: number): boolean {
    const slot = this.slotOf(this.digest(eventId));
    if (slot < 0) return false;
    const entry = this.slots[slot]! - 1;
    return this.chunkOf(entry).expiries[entry & (MAX_CHUNK - 1)]! > nowMs;
  }

  /**
   * The seq `eventId` was last added with, while it is remembered (expired or not) — or, once in 2^128, another id's
   * with the same digest: the caller checks the event at that seq.
   */
  seqOf(eventId: string): number | undefined {
    const slot = this.slotOf(this.digest(eventId));
    if (slot < 0) return undefined;
    const entry = this.slots[slot]! - 1;
    return this.chunkOf(entry).seqs[entry & (MAX_CHUNK - 1)];
  }

  /**
   * The seq of the oldest remembered id, or undefined if none is. Ids are added in seq order, so every event numbered
   * from there on that carried an id has it remembered (at its latest seq): only older events can carry a forgotten id.
   */
  oldestSeq(): number | undefined {
    return this.dropFrontTombstones() ? this.chunks[0]!.seqs[this.frontAt] : undefined;
  }

  /**
   * Event `seq` (≥ 1, above every seq added before) carried `eventId` and was accepted at `acceptedAtMs`: remembered
   * anew, as the newest, until its window ends.
   */
  added(eventId: string, acceptedAtMs: number, seq: number): void {
    if (!(seq >= 1)) throw new RangeError(`DedupWindow: seq ${seq} is not a positive number`);
    const digest = this.digest(eventId);
    // First the room (the one step that can fail, on a broken invariant), then the changes.
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.backAt === chunk.size) chunk = this.appendChunk();
    const slot = this.slotOf(digest);
    if (slot >= 0) {
      const entry = this.slots[slot]! - 1;
      this.chunkOf(entry).seqs[entry & (MAX_CHUNK - 1)] = 0;
      this.live--;
      this.vacate(slot);
    }
    const at = this.backAt++;
    chunk.digests.set(digest, 4 * at);
    const expiresAtMs = acceptedAtMs + this.windowMs;
    chunk.expiries[at] = expiresAtMs;
    chunk.seqs[at] = seq;
    this.length++;
    this.live++;
    // Re-adds behind a front that does not move (an unexpired oldest id, with a clock that stepped back) would
    // otherwise pile up tombstones: once they outnumber the ids, the ids are copied out without them.
    if (this.length - this.live > Math.max(this.live, MIN_CHUNK)) this.compact();
    else if (this.live * 2 > this.slots.length) this.reindex(this.slots.length * 2);
    else this.occupy(this.entryAt(this.chunks.length - 1, at));
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.live > this.maxIds) this.forgetOldest();
  }

  /** Forgets ids from the oldest on while their window has ended (an unexpired id stops it: insertion order is kept). */
  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    while (this.dropFrontTombstones()) {
      const expiresAtMs = this.chunks[0]!.expiries[this.frontAt]!;
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
    while (this.length > 0 && this.chunks[0]!.seqs[this.frontAt] === 0) this.popFront();
    return this.length > 0;
  }

  /** Forgets the record at the front, which is not a tombstone. */
  private forgetFront(): void {
    this.vacate(this.slotOfEntry(this.entryAt(0, this.frontAt)));
    this.popFront();
    this.live--;
  }

  /** The front moves past one record, and past its chunk at the chunk's end (the chunk is let go). */
  private popFront(): void {
    this.length--;
    if (++this.frontAt < this.chunks[0]!.size) return;
    this.capacity -= this.chunks.shift()!.size;
    this.firstNumber = (this.firstNumber + 1) & this.numberMask;
    this.frontAt = 0;
  }

  private appendChunk(): Chunk {
    if (this.chunks.length > this.numberMask) throw new Error(`DedupWindow: more than ${this.numberMask + 1} chunks held`);
    let size = MIN_CHUNK;
    while (size < MAX_CHUNK && size * 2 <= this.live) size *= 2;
    const chunk = new Chunk(size);
    if (this.chunks.length === 0) this.frontAt = 0;
    this.chunks.push(chunk);
    this.capacity += size;
    this.backAt = 0;
    return chunk;
  }

  /**
   * Copies the remembered records, in order and without tombstones, into new chunks (each up to the next power of
   * two of what is left, 64 to 4 096 records) and re-indexes them: after a burst, or behind tombstones.
   */
  private compact(): void {
    const chunks: Chunk[] = [];
    let chunk: Chunk | undefined;
    let backAt = 0;
    let left = this.live;
    this.forEachRecord((from, at) => {
      if (from.seqs[at] === 0) return;
      if (chunk === undefined || backAt === chunk.size) {
        let size = MIN_CHUNK;
        while (size < MAX_CHUNK && size < left) size *= 2;
        chunks.push((chunk = new Chunk(size)));
        backAt = 0;
      }
      chunk.digests.set(from.digests.subarray(4 * at, 4 * at + 4), 4 * backAt);
      chunk.expiries[backAt] = from.expiries[at]!;
      chunk.seqs[backAt++] = from.seqs[at]!;
      left--;
    });
    this.chunks = chunks;
    this.capacity = chunks.reduce((records, c) => records + c.size, 0);
    this.frontAt = 0;
    this.backAt = backAt;
    this.length = this.live;
    let size = this.slots.length;
    while (this.live * 2 > size) size *= 2;
    this.reindex(size);
  }

  /** Once nothing is left, the last chunk goes too; the index shrinks while under an eighth used (to a quarter or less). */
  private shrinkIfSparse(): void {
    if (this.length === 0) {
      this.chunks = [];
      this.capacity = 0;
    } else if (this.capacity > 4 * Math.max(this.length, MIN_CHUNK)) {
      // A chunk made in a burst that the few ids since have not filled (the front would free it only once they had).
      return this.compact();
    }
    let size = this.slots.length;
    while (size > MIN_SLOTS && this.live * 8 < size) size /= 2;
    if (size < this.slots.length) this.reindex(size);
  }

  private digest(eventId: string): Int32Array {
    if (eventId !== this.lastId) {
      this.digestOf(eventId, this.lastDigest);
      this.lastId = eventId;
    }
    return this.lastDigest;
  }

  /** The index entry (less one) of the record at place `at` of chunks[k]. */
  private entryAt(k: number, at: number): number {
    return (((this.firstNumber + k) & this.numberMask) << OFFSET_BITS) | at;
  }

  /** The chunk of an index entry (less one). */
  private chunkOf(entry: number): Chunk {
    return this.chunks[((entry >>> OFFSET_BITS) - this.firstNumber) & this.numberMask]!;
  }

  /** The first digest word of the record of an index entry (less one): where its probe run starts. */
  private homeOf(entry: number, mask: number): number {
    return this.chunkOf(entry).digests[4 * (entry & (MAX_CHUNK - 1))]! & mask;
  }

  /** The index slot holding `digest`'s record, or -1. */
  private slotOf(digest: Int32Array): number {
    const mask = this.slots.length - 1;
    for (let slot = digest[0]! & mask; ; slot = (slot + 1) & mask) {
      const stored = this.slots[slot]!;
      if (stored === 0) return -1;
      const d = this.chunkOf(stored - 1).digests;
      const at = 4 * ((stored - 1) & (MAX_CHUNK - 1));
      if (d[at] === digest[0] && d[at + 1] === digest[1] && d[at + 2] === digest[2] && d[at + 3] === digest[3]) return slot;
    }
  }

  /** The index slot of a record's entry (less one), which is indexed. */
  private slotOfEntry(entry: number): number {
    const mask = this.slots.length - 1;
    let slot = this.homeOf(entry, mask);
    while (this.slots[slot] !== entry + 1) {
      if (this.slots[slot] === 0) throw new Error(`DedupWindow: record ${entry} is not indexed`);
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  /** Indexes a record by its entry (less one); its digest is not indexed yet. */
  private occupy(entry: number): void {
    // At most half the slots are used (`added`, `compact`, `shrinkIfSparse`): a fuller index is a fault, not a wait.
    if (this.live * 2 > this.slots.length) throw new Error(`DedupWindow: ${this.live} ids for ${this.slots.length} index slots`);
    const mask = this.slots.length - 1;
    let slot = this.homeOf(entry, mask);
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  /**
   * Empties `slot` and moves later entries of its probe run back (Knuth's deletion for linear probing), so that every
   * entry stays reachable from its home slot without tombstones in the index.
   */
  private vacate(slot: number): void {
    const mask = this.slots.length - 1;
    let hole = slot;
    for (let next = (hole + 1) & mask; ; next = (next + 1) & mask) {
      const stored = this.slots[next]!;
      if (stored === 0) break;
      const home = this.homeOf(stored - 1, mask);
      // The entry stays if its home lies cyclically in (hole, next]: a probe from home reaches it without the hole.
      const reachable = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (!reachable) {
        this.slots[hole] = stored;
        hole = next;
      }
    }
    this.slots[hole] = 0;
  }

  /** A new index of `size` slots (a power of two) with every remembered record in it. */
  private reindex(size: number): void {
    this.slots = new Int32Array(size);
    this.forEachRecord((chunk, at, k) => {
      if (chunk.seqs[at] !== 0) this.occupy(this.entryAt(k, at));
    });
  }

  /** Every record from the front to the back, tombstones included: its chunk, its place there and the chunk's index. */
  private forEachRecord(visit: (chunk: Chunk, at: number, k: number) => void): void {
    const last = this.chunks.length - 1;
    for (let k = 0; k <= last; k++) {
      const chunk = this.chunks[k]!;
      for (let at = k === 0 ? this.frontAt : 0, end = k === last ? this.backAt : chunk.size; at < end; at++) visit(chunk, at, k);
    }
  }
}
