/**
 * A reproducible random integer source for tests that generate many inputs: `random(n)` is in 0…n−1. xorshift32 —
 * exact in 32-bit integer arithmetic (a float LCG loses precision past 2^53 and falls into one cycle whatever the seed).
 */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}
