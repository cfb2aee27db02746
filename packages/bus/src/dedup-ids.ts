/**
 * Offsets within ±2^30 - 1 are small integers (Smis) even where V8 compresses pointers (31-bit Smis), so a Map holds
 * them in its table; any other number (an epoch-ms expiry, ~1.8e12, included) gets a 16-byte HeapNumber of its own.
 */
const SMI_OFFSET_LIMIT = 2 ** 30 - 1;

/**
 * One bot's remembered event ids for retry de-duplication: each id with the moment it stops being a duplicate. The map
 * is insertion-ordered and expiries are set in time order, so the oldest entries are first and both expiry and the
 * `maxIds` bound forget from the front.
 *
 * An expiry is kept as its offset from `baseMs`, a whole number of ms that fits a Smi: 16 bytes less per remembered id
 * (the HeapNumber), ~20 % of an id's live cost, and ids are most of what a busy bot's log keeps (600 s of them). The base
 * moves (every value rewritten, exactly) when a new expiry lies 2^30 ms (12 days) from it. A clock that gives fractional
 * or unsafe-integer milliseconds (an injected one) switches the map to absolute values: exact, just boxed.
 */
export class DedupIds {
  private readonly expiryOffsetById = new Map<string, number>();
  /** Expiries are `offset + baseMs`; 0 once absolute. Always a safe integer, so offsets of safe integers are exact. */
  private baseMs: number | undefined;
  private absolute = false;
  /**
   * No remembered id expires before this (a lower bound: the first entry's expiry, or less). Until then `forgetExpired`
   * need not look at the map (an iterator and an entry per call).
   */
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;

  constructor(private readonly maxIds: number) {}

  get size(): number {
    return this.expiryOffsetById.size;
  }

  /** True while `eventId` is remembered and its window has not ended at `nowMs`. */
  has(eventId: string, nowMs: number): boolean {
    const offset = this.expiryOffsetById.get(eventId);
    return offset !== undefined && offset + this.baseMs! > nowMs;
  }

  /** Remembers `eventId` (anew, as the newest) until `expiresAtMs`; past `maxIds` the oldest id is forgotten early. */
  remember(eventId: string, expiresAtMs: number): void {
    this.expiryOffsetById.delete(eventId);
    this.expiryOffsetById.set(eventId, this.offsetOf(expiresAtMs));
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.expiryOffsetById.size > this.maxIds) this.expiryOffsetById.delete(this.expiryOffsetById.keys().next().value as string);
  }

  /** Forgets ids from the oldest on while their window has ended (an unexpired id stops it, as insertion order is kept). */
  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    for (const [id, offset] of this.expiryOffsetById) {
      const expiresAtMs = offset + this.baseMs!;
      if (expiresAtMs > nowMs) {
        this.expiresNoSoonerMs = expiresAtMs;
        break;
      }
      this.expiryOffsetById.delete(id);
    }
  }

  private offsetOf(expiresAtMs: number): number {
    if (this.absolute) return expiresAtMs;
    if (!Number.isSafeInteger(expiresAtMs)) {
      this.rebase(0);
      this.absolute = true;
      return expiresAtMs;
    }
    if (this.baseMs === undefined || this.expiryOffsetById.size === 0) this.baseMs = expiresAtMs;
    const offset = expiresAtMs - this.baseMs;
    if (offset >= -SMI_OFFSET_LIMIT && offset <= SMI_OFFSET_LIMIT) return offset;
    this.rebase(expiresAtMs);
    return 0;
  }

  /** Rewrites every offset for a new base; exact, as old base, new base and every expiry are safe integers. */
  private rebase(newBaseMs: number): void {
    const oldBaseMs = this.baseMs ?? 0;
    for (const [id, offset] of this.expiryOffsetById) this.expiryOffsetById.set(id, offset + oldBaseMs - newBaseMs);
    this.baseMs = newBaseMs;
  }
}
