/**
 * `pnpm bench`: scenario S1 against the bare ceiling and Hookway embedded, in alternating rounds.
 * The server runs on core 0 and the load generator on core 1 (taskset), and every Hookway figure is
 * reported as a ratio to the ceiling measured in the same round, because these machines are noisy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.DURATION_MS ?? 10_000);
const SECRET = 'BenchSecret0123456789';

interface LoadResult {
  acked: number;
  delivered: number;
  failed: number;
  measuredMs: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();
const pinned = (core: number, args: string[]) =>
  hasTaskset ? ['taskset', ['-c', String(core), process.execPath, ...args]] as const : [process.execPath, args] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} never became ready`);
}

async function runScenario(name: string, serverScript: string, readyPath: string): Promise<LoadResult> {
  const port = await freePort();
  const [cmd, args] = pinned(0, ['--import', 'tsx', serverScript]);
  const server = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}${readyPath}`, server);
    const [loadCmd, loadArgs] = pinned(1, ['--import', 'tsx', 'bench/load.ts']);
    const output = execFileSync(loadCmd, loadArgs, {
      cwd: ROOT,
      env: { ...process.env, TARGET: `http://127.0.0.1:${port}`, SECRET, DURATION_MS: String(DURATION_MS) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as LoadResult;
    process.stdout.write(`  ${name.padEnd(12)} ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

process.stdout.write(
  `S1: one bot, one raw client, ~600-byte signed GROUP_AT_MESSAGE_CREATE, 32 in flight, ${DURATION_MS / 1000} s x ${ROUNDS} rounds` +
    `${hasTaskset ? ' (server on core 0, load on core 1)' : ' (taskset missing: NOT pinned)'}\n`,
);
const rounds: { ceiling: LoadResult; embedded: LoadResult; ratio: number }[] = [];
for (let i = 1; i <= ROUNDS; i++) {
  process.stdout.write(`round ${i}\n`);
  const ceiling = await runScenario('ceiling', 'bench/ceiling.ts', '/');
  const embedded = await runScenario('embedded', 'apps/relay/src/main.ts', '/readyz');
  rounds.push({ ceiling, embedded, ratio: embedded.eventsPerSec / ceiling.eventsPerSec });
}

const allDelivered = rounds.every((r) => r.embedded.delivered === r.embedded.acked && r.embedded.failed === 0);
const summary = {
  scenario: 'S1',
  rounds,
  medianRatio: Number(median(rounds.map((r) => r.ratio)).toFixed(3)),
  embeddedEventsPerSec: median(rounds.map((r) => r.embedded.eventsPerSec)),
  ceilingEventsPerSec: median(rounds.map((r) => r.ceiling.eventsPerSec)),
  embeddedP50Ms: median(rounds.map((r) => r.embedded.p50Ms)),
  embeddedP99Ms: median(rounds.map((r) => r.embedded.p99Ms)),
  ceilingP50Ms: median(rounds.map((r) => r.ceiling.p50Ms)),
  ceilingP99Ms: median(rounds.map((r) => r.ceiling.p99Ms)),
  allDelivered,
};
mkdirSync(`${ROOT}/bench/results`, { recursive: true });
writeFileSync(`${ROOT}/bench/results/s1.json`, `${JSON.stringify(summary, null, 2)}\n`);

process.stdout.write(`
| S1 (median of ${ROUNDS}) | events/s | p50 ms | p99 ms |
|---|---|---|---|
| bare ceiling (node:http + ws) | ${summary.ceilingEventsPerSec} | ${summary.ceilingP50Ms} | ${summary.ceilingP99Ms} |
| Hookway embedded | ${summary.embeddedEventsPerSec} | ${summary.embeddedP50Ms} | ${summary.embeddedP99Ms} |

Hookway embedded / ceiling (per round): ${rounds.map((r) => r.ratio.toFixed(2)).join(', ')} — median ${summary.medianRatio} (target ≥ 0.70)
Every acknowledged event delivered: ${allDelivered ? 'yes' : 'NO'}
`);
if (!allDelivered) process.exitCode = 1;
