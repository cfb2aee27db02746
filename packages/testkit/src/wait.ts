/**
 * Waiting in tests without deadlines of their own. Under CPU load everything takes longer, so a helper that gives up
 * after a fixed time fails a correct build; the one time budget is the test's timeout. Instead each wait registers
 * what it is waiting for, and test/setup.ts adds that to the report of a test that runs out of time.
 */
const pending = new Set<() => string>();
/** Counts the tests that ran out of time: a poll started before the last one belongs to a test that is over. */
let abandoned = 0;

/** What the running test is still waiting for. */
export function pendingWaits(): string[] {
  return [...pending].map((describe) => describe());
}

/**
 * Called (by test/setup.ts) when a test runs out of time: what it awaited leaves the report of the tests after it,
 * and its polls stop. They never settle, so the abandoned test body goes no further.
 */
export function abandonWaits(): void {
  abandoned++;
  pending.clear();
}

/** Awaits `promise`, registered under `what` (read when the report is written) until it settles. */
export async function waitingFor<T>(what: string | (() => string), promise: Promise<T>): Promise<T> {
  const describe = typeof what === 'string' ? () => what : what;
  pending.add(describe);
  try {
    return await promise;
  } finally {
    pending.delete(describe);
  }
}

/**
 * Resolves once `check` holds, checking again every `intervalMs`: for states that no event announces (a counter,
 * another process's /readyz). Prefer awaiting the event itself where there is one.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string | (() => string), intervalMs = 10): Promise<void> {
  const started = abandoned;
  const polling = async () => {
    while (!(await check())) {
      if (abandoned !== started) return new Promise<never>(() => {});
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  await waitingFor(what, polling());
}
