import { randomInt } from 'node:crypto';

/** An id's 128-bit digest as four 32-bit words; equal ids have equal digests. */
export type IdDigest = (eventId: string, into: Int32Array) => void;

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** One lane's mix of a 32-bit word before it enters its h: × c, rotated left by r, × d (the same in blocks and tail). */
function scramble(k: number, c: number, r: number, d: number): number {
  return Math.imul(rotl(Math.imul(k, c), r), d);
}

/** A 32-bit word of the text's UTF-16LE bytes: the code unit at `at`, and the next one in the upper half if `withNext`. */
function wordAt(text: string, at: number, withNext: boolean): number {
  return withNext ? text.charCodeAt(at) | (text.charCodeAt(at + 1) << 16) : text.charCodeAt(at);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3 x86_128 of the text's UTF-16LE bytes (two per code unit, read straight from the string: no encoding, no
 * allocation), into four words h1…h4 (the reference's output, little-endian). packages/bus/test/id-digest.test.ts
 * checks it against the reference implementation's values (Python's mmh3).
 *
 * Why not SHA-256: node:crypto's createHash costs ~2–4 µs per short id here (the object, the copy, the Buffer), this
 * ~0.3 µs; the dedup window needs a digest that spreads natural ids, not one that resists forgery — ids reach it only
 * in webhooks whose signature was verified, so only the platform chooses them.
 */
export function murmur3x86128(text: string, seed: number, into: Int32Array): void {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const units = text.length;
  const blockEnd = units - (units & 7);
  for (let i = 0; i < blockEnd; i += 8) {
    h1 ^= scramble(wordAt(text, i, true), C1, 15, C2);
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    h2 ^= scramble(wordAt(text, i + 2, true), C2, 16, C3);
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    h3 ^= scramble(wordAt(text, i + 4, true), C3, 17, C4);
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    h4 ^= scramble(wordAt(text, i + 6, true), C4, 18, C1);
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  // The tail: 0–7 code units, 0–14 bytes, in the reference's lanes (bytes 0–3 → k1, 4–7 → k2, 8–11 → k3, 12–15 → k4).
  const tail = units - blockEnd;
  if (tail > 6) h4 ^= scramble(wordAt(text, blockEnd + 6, false), C4, 18, C1);
  if (tail > 4) h3 ^= scramble(wordAt(text, blockEnd + 4, tail > 5), C3, 17, C4);
  if (tail > 2) h2 ^= scramble(wordAt(text, blockEnd + 2, tail > 3), C2, 16, C3);
  if (tail > 0) h1 ^= scramble(wordAt(text, blockEnd, tail > 1), C1, 15, C2);

  const bytes = 2 * units;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  into[0] = h1;
  into[1] = (h2 + h1) | 0;
  into[2] = (h3 + h1) | 0;
  into[3] = (h4 + h1) | 0;
}

/**
 * The dedup window's digest: MurmurHash3 x86_128 with a seed drawn once per process. If 128 bits of it spread the ids
 * as chance would, two distinct ids share a digest with probability 2^-128: with the 200 000 ids a bot remembers at
 * most, a new id is taken for a remembered one with odds of ~6 · 10^-34 per event. The random seed makes even an
 * unlucky pair of real ids unlucky in one process only.
 */
const processSeed = randomInt(2 ** 32) | 0;
export const seededIdDigest: IdDigest = (eventId, into) => murmur3x86128(eventId, processSeed, into);
