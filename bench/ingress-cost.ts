/**
 * CPU cost per event and RSS of one embedded relay under S1 load — figures that survive a busy machine far better
 * than throughput: the server's CPU time (all threads, and the main thread alone) divided by the events delivered,
 * and its RSS right after the run.
 *
 *   node --import tsx bench/ingress-cost.ts [tsx|dist|path/to/built.mjs] [extra env as K=V …]
 *
 * `tsx` runs apps/relay/src/main.ts as `pnpm start` does; `dist` runs dist/hookway.mjs (`pnpm build` first).
 * DURATION_MS (10 000) and IN_FLIGHT (32) are passed to bench/load.ts. The server runs on core 0 and the load on
 * core 1, unless SERVER_CORES names the server's cores (e.g. `0,1`: unpinned on this 2-core box, where
 * VERIFY_THREADS=auto then starts one verify thread). NODE_FLAGS adds node options (e.g. `--max-semi-space-size=2`).
 * Linux only (/proc).
 */
import { readFileSync } from 'node:fs';
import { ROOT, freePort, processGroup, runLoadOnCore1, waitFor } from './processes.ts';

/** `tsx`, `dist`, or the path of another built file (e.g. one built from an earlier commit, for before/after). */
const mode = process.argv[2] === 'tsx' || process.argv[2] === undefined ? 'tsx' : process.argv[2];
const extraEnv = Object.fromEntries(process.argv.slice(3).map((kv) => kv.split('=', 2) as [string, string]));
const SECRET = 'BenchSecret0123456789';
const TICKS_PER_SEC = 100;

/** utime + stime in µs, of the whole process or of one thread (`/proc/<pid>/task/<tid>/stat`). */
function cpuMicros(path: string): number {
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SEC;
}
/** The main thread's time on CPU in µs, at nanosecond resolution (schedstat's first field). */
function mainThreadMicros(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

const port = await freePort();
const env = { PORT: String(port), CLIENT_KEYS_FILE: `/tmp/hookway-cost-${process.pid}.json`, ...extraEnv };
const script = mode === 'tsx' ? ['--import', 'tsx', 'apps/relay/src/main.ts'] : [mode === 'dist' ? `${ROOT}dist/hookway.mjs` : mode];
const group = processGroup();
const child = group.launch(process.execPath, [...(process.env.NODE_FLAGS?.split(' ').filter(Boolean) ?? []), ...script], env, {
  cores: process.env.SERVER_CORES ?? '0',
});
const url = `http://127.0.0.1:${port}`;
try {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'relay', [child]);
  // `taskset -c 0 node …`: the pid is node's own (taskset execs it).
  const pid = child.pid!;
  const beforeAll = cpuMicros(`/proc/${pid}/stat`);
  const beforeMain = mainThreadMicros(pid);
  const rssBefore = rssMiB(pid);
  const result = runLoadOnCore1<{ delivered: number; acked: number; failed: number; eventsPerSec: number; p99Ms: number }>(
    'bench/load.ts',
    { TARGET: url, SECRET, WARMUP_MS: '0' },
  );
  const allUs = cpuMicros(`/proc/${pid}/stat`) - beforeAll;
  const mainUs = mainThreadMicros(pid) - beforeMain;
  const events = result.delivered;
  process.stdout.write(
    `${JSON.stringify({
      mode,
      serverCores: process.env.SERVER_CORES ?? '0',
      env: extraEnv,
      events,
      failed: result.failed,
      eventsPerSec: result.eventsPerSec,
      p99Ms: result.p99Ms,
      cpuUsPerEvent: Number((allUs / events).toFixed(1)),
      mainThreadUsPerEvent: Number((mainUs / events).toFixed(1)),
      rssIdleMiB: rssBefore,
      rssAfterMiB: rssMiB(pid),
    })}\n`,
  );
} finally {
  await group.stop();
}
