import { describe, expect, it } from 'vitest';
import { DedupIds } from '../src/dedup-ids.ts';

/** One step on a DedupIds: remember an id, forget what expired, or ask; `expect` is what `has` answers. */
type Step =
  | { readonly remember: string; readonly expiresAtMs: number }
  | { readonly forgetExpiredAtMs: number; readonly size: number }
  | { readonly has: string; readonly atMs: number; readonly expect: boolean };

const T = 1_796_000_000_000; // epoch ms: not a Smi, as the production clock's are
const FAR = 2 ** 30; // past one base's reach

const cases: readonly { readonly name: string; readonly maxIds?: number; readonly steps: readonly Step[] }[] = [
  {
    name: 'an id is a duplicate until, not at, its expiry',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { has: 'a', atMs: T - 1, expect: true },
      { has: 'a', atMs: T, expect: false },
      { has: 'b', atMs: T - 1, expect: false },
    ],
  },
  {
    name: 'expired ids are forgotten oldest first; an unexpired one is kept',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: T + 1 },
      { forgetExpiredAtMs: T - 1, size: 2 },
      { forgetExpiredAtMs: T, size: 1 },
      { has: 'b', atMs: T, expect: true },
      { forgetExpiredAtMs: T + 1, size: 0 },
    ],
  },
  {
    name: 'an id remembered again after it was forgotten counts from its new expiry',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { forgetExpiredAtMs: T, size: 0 },
      { has: 'a', atMs: T, expect: false },
      { remember: 'a', expiresAtMs: T + 600_000 },
      { has: 'a', atMs: T + 599_999, expect: true },
      { has: 'a', atMs: T + 600_000, expect: false },
    ],
  },
  {
    name: 'an expired id not yet forgotten, remembered again, becomes the newest (no second entry)',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: T + 10 },
      { has: 'a', atMs: T, expect: false },
      { remember: 'a', expiresAtMs: T + 20 },
      { forgetExpiredAtMs: T + 10, size: 1 },
      { has: 'a', atMs: T + 19, expect: true },
    ],
  },
  {
    name: 'past maxIds the oldest id is forgotten, even unexpired; remembering an id again makes it the newest',
    maxIds: 2,
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: T + 1 },
      { remember: 'c', expiresAtMs: T + 2 },
      { has: 'a', atMs: T - 1, expect: false },
      { has: 'b', atMs: T - 1, expect: true },
      { forgetExpiredAtMs: T - 1, size: 2 },
      { remember: 'b', expiresAtMs: T + 3 },
      { remember: 'd', expiresAtMs: T + 4 },
      { has: 'c', atMs: T - 1, expect: false },
      { has: 'b', atMs: T - 1, expect: true },
      { has: 'd', atMs: T - 1, expect: true },
    ],
  },
  {
    name: 'a clock gone backwards: a later id with an earlier expiry waits behind the first, and still answers by its own',
    steps: [
      { remember: 'a', expiresAtMs: T + 1000 },
      { remember: 'b', expiresAtMs: T },
      { has: 'b', atMs: T, expect: false },
      { forgetExpiredAtMs: T, size: 2 },
      { has: 'a', atMs: T, expect: true },
      { forgetExpiredAtMs: T + 1000, size: 0 },
    ],
  },
  {
    name: 'expiries 2^30 ms apart (a new base, every value rewritten) keep their exact boundaries',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: T + FAR + 5 },
      { remember: 'c', expiresAtMs: T + 7 },
      { remember: 'd', expiresAtMs: T - FAR - 3 },
      { has: 'a', atMs: T - 1, expect: true },
      { has: 'a', atMs: T, expect: false },
      { has: 'b', atMs: T + FAR + 4, expect: true },
      { has: 'b', atMs: T + FAR + 5, expect: false },
      { has: 'c', atMs: T + 6, expect: true },
      { has: 'c', atMs: T + 7, expect: false },
      { has: 'd', atMs: T - FAR - 4, expect: true },
      { has: 'd', atMs: T - FAR - 3, expect: false },
      { forgetExpiredAtMs: T, size: 3 },
      { forgetExpiredAtMs: T + FAR + 5, size: 0 },
    ],
  },
  {
    name: 'a clock that starts at 0 (a test clock) works as an epoch one',
    steps: [
      { remember: 'a', expiresAtMs: 1000 },
      { remember: 'b', expiresAtMs: 0 },
      { has: 'a', atMs: 999, expect: true },
      { has: 'a', atMs: 1000, expect: false },
      { has: 'b', atMs: -1, expect: true },
      { has: 'b', atMs: 0, expect: false },
    ],
  },
  {
    name: 'fractional milliseconds (an injected clock) keep exact boundaries, before and after integral ones',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: T + 0.5 },
      { remember: 'c', expiresAtMs: 0.1 + 0.2 },
      { remember: 'd', expiresAtMs: T + 2 },
      { has: 'a', atMs: T - 0.5, expect: true },
      { has: 'a', atMs: T, expect: false },
      { has: 'b', atMs: T + 0.25, expect: true },
      { has: 'b', atMs: T + 0.5, expect: false },
      { has: 'c', atMs: 0.30000000000000004 - 2 ** -54, expect: true },
      { has: 'c', atMs: 0.30000000000000004, expect: false },
      { has: 'd', atMs: T + 1.75, expect: true },
      { has: 'd', atMs: T + 2, expect: false },
      { forgetExpiredAtMs: T + 0.5, size: 1 },
    ],
  },
  {
    name: 'unsafe-integer milliseconds keep their exact value',
    steps: [
      { remember: 'a', expiresAtMs: T },
      { remember: 'b', expiresAtMs: 2 ** 53 + 2 },
      { has: 'a', atMs: T - 1, expect: true },
      { has: 'a', atMs: T, expect: false },
      { has: 'b', atMs: 2 ** 53, expect: true },
      { has: 'b', atMs: 2 ** 53 + 2, expect: false },
    ],
  },
  {
    name: 'an emptied map takes a fresh base for the next id',
    steps: [
      { remember: 'a', expiresAtMs: 1000 },
      { forgetExpiredAtMs: 1000, size: 0 },
      { remember: 'b', expiresAtMs: T },
      { remember: 'c', expiresAtMs: T + 1 },
      { has: 'b', atMs: T - 1, expect: true },
      { has: 'b', atMs: T, expect: false },
      { has: 'c', atMs: T, expect: true },
    ],
  },
];

describe('DedupIds', () => {
  for (const { name, maxIds = 1000, steps } of cases) {
    it(name, () => {
      const ids = new DedupIds(maxIds);
      const answers = steps.map((step) => {
        if ('remember' in step) return ids.remember(step.remember, step.expiresAtMs);
        if ('forgetExpiredAtMs' in step) {
          ids.forgetExpired(step.forgetExpiredAtMs);
          return { size: ids.size };
        }
        return { has: step.has, atMs: step.atMs, answer: ids.has(step.has, step.atMs) };
      });
      expect(answers).toEqual(
        steps.map((step) => {
          if ('remember' in step) return undefined;
          if ('forgetExpiredAtMs' in step) return { size: step.size };
          return { has: step.has, atMs: step.atMs, answer: step.expect };
        }),
      );
    });
  }

  it('answers as the plain id → expiry map it replaced, over a long run with a wandering clock', () => {
    const maxIds = 50;
    const ids = new DedupIds(maxIds);
    const reference = new AbsoluteExpiryMap(maxIds);
    let seed = 7;
    const random = (n: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    let nowMs = T;
    let duplicates = 0;
    for (let step = 0; step < 20_000; step++) {
      // Mostly forwards, sometimes back, now and then by more than one base's reach.
      const jump = random(100);
      nowMs += jump < 90 ? random(50) : jump < 98 ? -random(500) : (jump % 2 ? 1 : -1) * (FAR + random(1000));
      const id = `id${random(120)}`;
      const duplicate = reference.has(id, nowMs);
      expect(ids.has(id, nowMs)).toBe(duplicate);
      if (duplicate) duplicates++;
      else {
        reference.remember(id, nowMs + 600);
        ids.remember(id, nowMs + 600);
      }
      reference.forgetExpired(nowMs);
      ids.forgetExpired(nowMs);
      expect(ids.size).toBe(reference.size());
    }
    // The run exercised both answers (a test that cannot fail is a defect).
    expect(duplicates).toBeGreaterThan(1000);
    expect(20_000 - duplicates).toBeGreaterThan(1000);
  });
});

/** The representation DedupIds replaced (memory-event-log.ts before it): absolute expiries, the same lower bound. */
class AbsoluteExpiryMap {
  private readonly expiry = new Map<string, number>();
  private expiresNoSoonerMs = Number.POSITIVE_INFINITY;

  constructor(private readonly maxIds: number) {}

  size(): number {
    return this.expiry.size;
  }

  has(id: string, nowMs: number): boolean {
    const expiresAt = this.expiry.get(id);
    return expiresAt !== undefined && expiresAt > nowMs;
  }

  remember(id: string, expiresAtMs: number): void {
    this.expiry.delete(id);
    this.expiry.set(id, expiresAtMs);
    if (expiresAtMs < this.expiresNoSoonerMs) this.expiresNoSoonerMs = expiresAtMs;
    if (this.expiry.size > this.maxIds) this.expiry.delete(this.expiry.keys().next().value as string);
  }

  forgetExpired(nowMs: number): void {
    if (nowMs < this.expiresNoSoonerMs) return;
    this.expiresNoSoonerMs = Number.POSITIVE_INFINITY;
    for (const [id, expiresAt] of this.expiry) {
      if (expiresAt > nowMs) {
        this.expiresNoSoonerMs = expiresAt;
        break;
      }
      this.expiry.delete(id);
    }
  }
}
