/**
 * What the S1 closed-loop load generator itself costs, paired: each round starts a fresh server (pinned to
 * SERVER_CORES, default core 0) for each generator script in turn and runs that script on core 1, then prints the
 * generator's own CPU µs per acknowledged event beside the server's (all threads, and its main thread alone, from
 * schedstat over the whole load run; with SERVER_CORES=0,1 the relay's verify thread runs beside the generator on
 * core 1); medians at the end.
 *
 *   node --import tsx bench/generator-cost.ts ceiling|tsx|dist [generator.ts …]
 *
 * `ceiling` serves with bench/ceiling.ts, `tsx` with apps/relay/src/main.ts, `dist` with dist/hookway.mjs (`pnpm
 * build` first). Generators default to bench/load.ts; they must print load.ts's JSON line with
 * `generatorCpuUsPerEvent`. ROUNDS (3), DURATION_MS (5 000) and IN_FLIGHT (32) are passed on; the server inherits
 * the environment (e.g. VERIFY_THREADS; NODE_OPTIONS reaches the generator too). Linux only (/proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ROOT, freePort, processGroup, runLoadOnCore1, waitFor } from './processes.ts';

const server = process.argv[2] ?? 'ceiling';
if (!['ceiling', 'tsx', 'dist'].includes(server)) throw new Error(`server: ceiling, tsx or dist, not ${server}`);
const generators = process.argv.length > 3 ? process.argv.slice(3) : ['bench/load.ts'];
const rounds = Number(process.env.ROUNDS ?? 3);
const durationMs = process.env.DURATION_MS ?? '5000';
const SECRET = 'BenchSecret0123456789';

/** A thread's time on CPU in µs, at nanosecond resolution (schedstat's first field). */
const threadMicros = (pid: number, tid: number) => Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
/** Every thread's time on CPU in µs. */
const processMicros = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => {
    try {
      return sum + threadMicros(pid, Number(tid));
    } catch {
      return sum; // The thread ended meanwhile.
    }
  }, 0);

interface Result {
  eventsPerSec: number;
  acked: number;
  delivered: number;
  failed: number;
  generatorCpuUsPerEvent: number;
  generatorCpuPct: number;
  generatorUserSysUsPerEvent: number[];
  /** Added here: the server's main thread and all its threads (schedstat), µs per delivered event. */
  mainThreadUsPerEvent?: number;
  serverAllThreadsUsPerEvent?: number;
}

async function runOnce(generator: string): Promise<Result> {
  const port = await freePort();
  const script =
    server === 'ceiling'
      ? ['--import', 'tsx', 'bench/ceiling.ts']
      : server === 'tsx'
        ? ['--import', 'tsx', 'apps/relay/src/main.ts']
        : [`${ROOT}dist/hookway.mjs`];
  const group = processGroup();
  const child = group.launch(
    process.execPath,
    script,
    { PORT: String(port), CLIENT_KEYS_FILE: `/tmp/hookway-gen-${process.pid}.json` },
    { cores: process.env.SERVER_CORES ?? '0' },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(server === 'ceiling' ? url : `${url}/readyz`)).status > 0, server, [child]);
    const pid = child.pid!;
    const [mainBefore, allBefore] = [threadMicros(pid, pid), processMicros(pid)];
    // WARMUP_MS 0: the server's time is read around the whole load run (idle while the generator prepares).
    const r = runLoadOnCore1<Result>(generator, { TARGET: url, SECRET, SERVER_PIDS: String(pid), DURATION_MS: durationMs, WARMUP_MS: '0' });
    r.mainThreadUsPerEvent = Number(((threadMicros(pid, pid) - mainBefore) / r.delivered).toFixed(1));
    r.serverAllThreadsUsPerEvent = Number(((processMicros(pid) - allBefore) / r.delivered).toFixed(1));
    return r;
  } finally {
    await group.stop();
  }
}

const byGenerator = new Map<string, Result[]>(generators.map((g) => [g, []]));
for (let round = 1; round <= rounds; round++) {
  for (const generator of generators) {
    const r = await runOnce(generator);
    byGenerator.get(generator)!.push(r);
    const fields = ['eventsPerSec', 'acked', 'delivered', 'failed', 'mainThreadUsPerEvent', 'serverAllThreadsUsPerEvent'] as const;
    const more = ['generatorCpuUsPerEvent', 'generatorUserSysUsPerEvent', 'generatorCpuPct'] as const;
    const shown = Object.fromEntries([...fields, ...more].map((k) => [k, r[k]]));
    process.stdout.write(`round ${round} ${server} ${generator}: ${JSON.stringify(shown)}\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [generator, rs] of byGenerator) {
  process.stdout.write(
    `median ${server} ${generator}: events/s ${median(rs.map((r) => r.eventsPerSec))}, server CPU µs/event ` +
      `${median(rs.map((r) => r.serverAllThreadsUsPerEvent!))} (main thread ${median(rs.map((r) => r.mainThreadUsPerEvent!))}), generator CPU µs/event ${median(rs.map((r) => r.generatorCpuUsPerEvent))} ` +
      `(${median(rs.map((r) => r.generatorCpuPct))} % of its core)\n`,
  );
}
