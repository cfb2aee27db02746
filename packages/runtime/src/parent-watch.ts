/**
 * Started through a package manager (`pnpm start`), this process is a grandchild of the PID the user sees:
 * pnpm → sh -c → node. pnpm 12 passes SIGTERM on to the shell only, which dies without passing it to node (checked
 * with a real pnpm: node never sees the signal); node is re-parented (to PID 1 or a subreaper) and would go on
 * serving, holding the port. Polling our parent PID notices that within one interval on every platform and whatever
 * the shell does; then the normal graceful shutdown runs.
 */
export interface ParentWatch {
  close(): void;
}

export interface ParentWatchOptions {
  /** How often the parent PID is read. */
  readonly intervalMs: number;
  /** Called once when the parent is gone (our parent PID changed). */
  readonly onGone: (formerParentPid: number) => void;
  /** Reads this process's parent PID; `process.ppid` (a live read, not a value cached at start). */
  readonly parentPid?: () => number;
}

export function watchParent(options: ParentWatchOptions): ParentWatch {
  const read = options.parentPid ?? (() => process.ppid);
  const original = read();
  const timer = setInterval(() => {
    if (read() === original) return;
    clearInterval(timer);
    options.onGone(original);
  }, options.intervalMs);
  // Never the reason the process stays up.
  timer.unref();
  return { close: () => clearInterval(timer) };
}

/**
 * True when a package manager ran us as a script (npm, pnpm and yarn all set npm_lifecycle_event): the one case where
 * the parent is a throwaway shell. pm2, systemd and Docker start node directly and stop it with a signal.
 */
export function startedByPackageManager(env: NodeJS.ProcessEnv): boolean {
  return (env.npm_lifecycle_event ?? '') !== '';
}
