/**
 * Failed authentications per client address (bad key, forged token, bad signature), in fixed one-minute windows.
 * Past the limit an address is refused before any work is done (429 with Retry-After) until its window ends.
 * Bounded: at most `maxAddresses` are tracked; when full, the oldest window is forgotten first.
 */
export class AuthFailureThrottle {
  private readonly windows = new Map<string, { startedMs: number; failures: number }>();

  constructor(
    private readonly failuresPerMinute: number,
    private readonly nowMs: () => number = Date.now,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Seconds until the address may try again, or undefined when it may try now. */
  retryAfterSec(address: string): number | undefined {
    const window = this.current(address);
    if (!window || window.failures < this.failuresPerMinute) return undefined;
    return Math.max(1, Math.ceil((window.startedMs + 60_000 - this.nowMs()) / 1000));
  }

  recordFailure(address: string): void {
    const window = this.current(address);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { startedMs: this.nowMs(), failures: 1 });
  }

  get trackedAddresses(): number {
    return this.windows.size;
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window && this.nowMs() - window.startedMs >= 60_000) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
