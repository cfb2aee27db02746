import { describe, expect, it } from 'vitest';
import { seededRandom } from '@hookway/testkit';
import { DedupWindow } from '../src/dedup-window.ts';
import { seededIdDigest, type IdDigest } from '../src/id-digest.ts';
import { MapWindow } from './map-window.ts';

/**
 * The dedup window on its own, against the Map it stands for (insertion-ordered id → expiry), over long random runs:
 * enough ids to grow, wrap, compact and shrink the ring, and a digest that crowds the index's probe runs so that every
 * deletion moves entries back. (packages/bus/test/memory-event-ids.test.ts checks it inside the memory log.)
 */
/** Distinct ids get distinct digests, but only 8 home slots: long probe runs that wrap around the index's end. */
const crowdedDigest: IdDigest = (id, into) => {
  const n = Number(id.slice(2));
  into[0] = -1 - (n % 8); // the top slots of any index size: runs wrap to slot 0
  into[1] = n;
  into[2] = 7;
  into[3] = -n;
};

const T = 1_796_000_000_000;

describe('DedupWindow', () => {
  // Chunk numbers wrap around every 16 chunks in the last two runs (every 2^18 in production): dozens of times here.
  const runs = [
    { name: 'the production digest, cap 1 500', digest: seededIdDigest, maxIds: 1500, ids: 5000, windowMs: 4000, chunkNumberBits: 18 },
    {
      name: 'the production digest, cap 1 500, chunk numbers wrapping',
      digest: seededIdDigest,
      maxIds: 1500,
      ids: 5000,
      windowMs: 4000,
      chunkNumberBits: 4,
    },
    {
      name: 'crowded digests (probe runs wrap), cap 300, chunk numbers wrapping',
      digest: crowdedDigest,
      maxIds: 300,
      ids: 500,
      windowMs: 500,
      chunkNumberBits: 4,
    },
  ];
  for (const { name, digest, maxIds, ids, windowMs, chunkNumberBits } of runs) {
    it(`answers as an insertion-ordered Map over a long run (${name})`, () => {
      const window = new DedupWindow(windowMs, maxIds, digest, chunkNumberBits);
      const reference = new MapWindow(windowMs, maxIds);
      const random = seededRandom(7);
      const seen = { duplicate: 0, accepted: 0, readded: 0, atCap: 0, grewTo: 0, shrankTo: Number.POSITIVE_INFINITY };
      let now = T;
      for (let step = 0; step < 60_000; step++) {
        // Phases of 10 000 steps: a burst of many ids (the ring grows to the cap), then a few ids with pauses longer
        // than the window (everything expires, the ring shrinks). Mostly small steps, some back.
        const burst = step % 20_000 < 10_000;
        const jump = random(1000);
        now += jump < 900 ? random(3) : jump < 995 || burst ? -random(50) : windowMs + random(windowMs);
        const id = `id${random(burst ? ids : 40)}`;
        const duplicate = window.isDuplicate(id, now);
        const asked = `id${random(ids)}`;
        if (duplicate !== reference.isDuplicate(id, now)) expect({ step, id, duplicate }).toBe('as the Map answers');
        if (duplicate) seen.duplicate++;
        else {
          seen.accepted++;
          window.added(id, now, step + 1);
          if (reference.added(id, now, step + 1)) seen.readded++; // leaves a tombstone in the ring
        }
        window.forgetExpired(now);
        reference.forgetExpired(now);
        if (window.rememberedIds !== reference.size) expect({ step, remembered: window.rememberedIds }).toBe(reference.size);
        if (reference.size === maxIds) seen.atCap++;
        seen.grewTo = Math.max(seen.grewTo, window.recordCapacity);
        if (step > 1000) seen.shrankTo = Math.min(seen.shrankTo, window.recordCapacity);
        const answer = window.isDuplicate(asked, now);
        if (answer !== reference.isDuplicate(asked, now)) expect({ step, asked, duplicate: answer }).toBe('as the Map answers');
        const seq = window.seqOf(asked);
        if (seq !== reference.seqOf(asked)) expect({ step, asked, seq }).toBe(reference.seqOf(asked));
        if (window.oldestSeq() !== reference.oldestSeq()) expect({ step, oldestSeq: window.oldestSeq() }).toBe(reference.oldestSeq());
      }
      // The run exercised every path (a test that cannot fail is a defect).
      expect(Math.min(seen.duplicate, seen.accepted, seen.atCap)).toBeGreaterThan(5000);
      expect(seen.readded).toBeGreaterThan(100);
      expect(seen.grewTo).toBeGreaterThanOrEqual(maxIds);
      expect(seen.shrankTo).toBeLessThan(maxIds / 4);
    });
  }

  it('holds a burst in chunks of at most 4 096 records and gives them back as the ids go; a quiet bot keeps one small chunk', () => {
    const window = new DedupWindow(1000, 200_000);
    for (let n = 0; n < 50_000; n++) window.added(`burst${n}`, T + n / 100, n + 1);
    // 64, 64, 128, …, 4 096 (8 192 records), then eleven chunks of 4 096: 53 248 — a ring doubling from 64 held 65 536.
    expect(window.recordCapacity).toBe(53_248);
    window.forgetExpired(T + 1000 + 250); // the first 25 001 ids expired: the chunks wholly before the front are gone
    expect(window.rememberedIds).toBe(24_999);
    expect(window.recordCapacity).toBe(4096 * 7);
    window.forgetExpired(T + 1000 + 500);
    expect(window.rememberedIds).toBe(0);
    expect(window.recordCapacity).toBe(0);
    // A bot with a few ids at a time, for as long as it lasts: one chunk of 64 at a time (two while one fills).
    let most = 0;
    for (let n = 0; n < 10_000; n++) {
      window.added(`quiet${n}`, T + 10_000 + n * 100, 50_001 + n);
      window.forgetExpired(T + 10_000 + n * 100);
      most = Math.max(most, window.recordCapacity);
    }
    expect(window.rememberedIds).toBe(10);
    expect(most).toBe(128);
  });

  it('keeps its records near the ids it remembers when re-adds pile up behind a front that does not move', () => {
    // An id accepted while the clock was an hour ahead holds the front; 'a' expires and is accepted again, 3 590 times.
    const held = new DedupWindow(1000, 200_000);
    const reference = new MapWindow(1000, 200_000);
    for (const w of [held, reference]) w.added('pin', T + 3_600_000, 1);
    let most = 0;
    for (let k = 0, seq = 2; k < 3590; k++) {
      const now = T + k * 1001;
      expect(held.isDuplicate('a', now)).toBe(reference.isDuplicate('a', now));
      if (!reference.isDuplicate('a', now)) for (const w of [held, reference]) w.added('a', now, seq);
      seq++;
      for (const w of [held, reference]) w.forgetExpired(now);
      most = Math.max(most, held.recordCapacity);
    }
    expect([held.rememberedIds, held.seqOf('pin'), held.oldestSeq()]).toEqual([reference.size, 1, 1]);
    expect(most).toBeLessThanOrEqual(256); // 3 590 records with the tombstones kept
    held.forgetExpired(T + 3_601_000); // the pin's window ends: everything goes, chunks too
    expect([held.rememberedIds, held.recordCapacity, held.oldestSeq()]).toEqual([0, 0, undefined]);
    // A window that is not a number never expires anything: the same pile-up, without a cap to clear it.
    const endless = new DedupWindow(Number.NaN, 200_000);
    for (let seq = 1; seq <= 100_000; seq++) endless.added('a', T, seq);
    expect([endless.rememberedIds, endless.seqOf('a'), endless.recordCapacity <= 256]).toEqual([1, 100_000, true]);
  });

  it('gives back a chunk a burst left half-empty while a few ids keep the window open', () => {
    const window = new DedupWindow(600_000, 200_000);
    for (let n = 0; n < 10_000; n++) window.added(`burst${n}`, T, n + 1);
    for (let minute = 1; minute <= 30; minute++) {
      window.added(`trickle${minute}`, T + minute * 60_000, 10_000 + minute);
      window.forgetExpired(T + minute * 60_000);
    }
    expect(window.rememberedIds).toBe(10); // the last ten minutes' ids
    expect(window.recordCapacity).toBe(64); // not the 4 096-record chunk the burst ended in
  });

  it('refuses an id, changing nothing, when it would need more chunks than their numbers can tell apart', () => {
    const window = new DedupWindow(3_600_000, 1_000_000, seededIdDigest, 1); // two chunk numbers: two chunks held at most
    for (let n = 0; n < 128; n++) window.added(`id${n}`, T, n + 1); // two chunks of 64
    expect(window.recordCapacity).toBe(128);
    expect(() => window.added('id128', T, 129)).toThrow('more than 2 chunks held');
    expect(() => window.added('id3', T + 3_600_000, 130)).toThrow('more than 2 chunks held'); // a re-add, refused
    expect([window.rememberedIds, window.isDuplicate('id3', T), window.seqOf('id3'), window.isDuplicate('id128', T)]).toEqual([
      128,
      true,
      4,
      false,
    ]);
  });

  it('keeps the Map’s answers for a window that is not a number, and refuses a seq that is not positive', () => {
    const window = new DedupWindow(Number.NaN, 2);
    for (let n = 1; n <= 5; n++) window.added(`id${n}`, T, n);
    expect(window.isDuplicate('id5', T)).toBe(false); // NaN > now is false, as for the Map
    expect(window.rememberedIds).toBe(2);
    window.forgetExpired(T + 1); // a NaN expiry never sets the Map's "nothing expires before" bound either: kept
    for (let n = 6; n <= 200; n++) window.added(`id${n % 7}`, T, n); // re-adds: the ring stays consistent
    expect(window.rememberedIds).toBe(2);
    expect(window.seqOf('id4')).toBe(200);
    expect(() => window.added('id9', T, 0)).toThrow(/seq 0 is not a positive number/);
  });
});
