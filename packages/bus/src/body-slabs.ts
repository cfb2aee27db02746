/** The first slab a bot's log gets; each next one is twice the last, up to SLAB_MAX_BYTES. */
export const SLAB_MIN_BYTES = 4 * 1024;
export const SLAB_MAX_BYTES = 64 * 1024;

/**
 * Where one bot's log keeps the bodies of its history: small bodies are copied side by side into shared slabs, so a
 * ~600-byte webhook costs its bytes and a view on them instead of an ArrayBuffer of its own (its JS object, its
 * backing store and the allocator's bookkeeping: ~250 bytes each, ~2.5 MiB at 10 000 events a bot, and as much again
 * in garbage per 10 000 events that leave the history before the old generation is collected). A slab lives as long
 * as any body in it; the history trims from the front, so slabs go in the order they were filled. A quiet bot's slabs
 * stay small (they grow only when filled), so what a slab wastes is at most its unused tail, one per bot.
 */
export class BodySlabs {
  private slab: Buffer | undefined;
  private used = 0;
  private nextSlabBytes = SLAB_MIN_BYTES;

  /** A copy of `body` in a slab; a body over a quarter of the largest slab keeps a buffer of its own (as given). */
  store(body: Buffer): Buffer {
    if (body.length > SLAB_MAX_BYTES / 4) return body;
    if (!this.slab || this.used + body.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.nextSlabBytes);
      this.used = 0;
      this.nextSlabBytes = Math.min(SLAB_MAX_BYTES, this.nextSlabBytes * 2);
    }
    const copy = this.slab.subarray(this.used, this.used + body.length);
    body.copy(copy);
    this.used += body.length;
    return copy;
  }
}
