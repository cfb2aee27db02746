/**
 * Waiting in tests without deadlines of their own. Under CPU load everything takes longer, so a helper that gives up
 * after a fixed time fails a correct build; the one time budget is the test's timeout. Instead each wait registers
 * what it is waiting for, and test/setup.ts adds that to the report of a test that runs out of time.
 */
const pending = new Set<() => string>();

/** What the running test is still waiting for. */
export function pendingWaits(): string[] {
  return [...pending].map((describe) => describe());
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
  const polling = async () => {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  };
  await waitingFor(what, polling());
}
