/**
 * The dedup window as the memory log kept it in a Map (main at 158fcfd): insertion-ordered id → expiry, the oldest
 * forgotten past `maxIds`, expired ids forgotten from the front. The reference that dedup-window.test.ts and
 * memory-event-ids.test.ts (its TwoMapsLog) compare the typed-array DedupWindow with; it also keeps each id's seq.
 */
export class MapWindow {
  private readonly expiries = new Map<string, number>();
  private readonly seqs = new Map<string, number>();
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  isDuplicate(id: string, nowMs: number): boolean {
    const expiresAtMs = this.expiries.get(id);
    return expiresAtMs !== undefined && expiresAtMs > nowMs;
  }

  /** The seq the id was last added with, while remembered. */
  seqOf(id: string): number | undefined {
    return this.expiries.has(id) ? this.seqs.get(id) : undefined;
  }

  oldestSeq(): number | undefined {
    const oldest = this.expiries.keys().next();
    return oldest.done === true ? undefined : this.seqs.get(oldest.value);
  }

  /** True if the id was still remembered (its window over, or it would not be added): a re-add. */
  added(id: string, acceptedAtMs: number, seq: number): boolean {
    const readded = this.expiries.delete(id);
    const expiresAtMs = acceptedAtMs + this.windowMs;
    this.expiries.set(id, expiresAtMs);
    this.seqs.set(id, seq);
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.expiries.size > this.maxIds) this.expiries.delete(this.expiries.keys().next().value!);
    return readded;
  }

  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    for (const [id, expiresAtMs] of this.expiries) {
      if (expiresAtMs > nowMs) {
        this.expiresNoSoonerMs = expiresAtMs;
        return;
      }
      this.expiries.delete(id);
    }
  }
}
