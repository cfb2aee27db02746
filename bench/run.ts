/**
 * `pnpm bench`: S1 against the bare ceiling, Hookway embedded and Hookway split (ingress and gateway processes
 * over Redis), plus the fan-out scenario — in alternating rounds. Every server-side process (Redis included) runs
 * on core 0 and the load generator on core 1 (taskset); throughput is reported as a ratio to the ceiling measured
 * in the same round, because these machines are noisy. Then the scale scenario once (bench/scale.ts);
 * `pnpm bench scale` runs only that.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort, hasTaskset, processGroup, ROOT, runLoadOnCore1 } from './processes.ts';
import { runScale } from './scale.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.DURATION_MS ?? 10_000);
const SECRET = 'BenchSecret0123456789';

interface S1Result {
  acked: number;
  delivered: number;
  failed: number;
  measuredMs: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}
interface FanoutResult {
  clients: number;
  ratePerSec: number;
  posted: number;
  acked: number;
  failed: number;
  expectedDeliveries: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Topology {
  /** Where webhooks go. */
  readonly target: string;
  /** Where clients connect. */
  readonly wsTargets: string[];
  stop(): Promise<void>;
}

async function start(kind: 'ceiling' | 'embedded' | 'split' | 'fanout'): Promise<Topology> {
  const { launch, node, stop } = processGroup();
  try {
    if (kind === 'ceiling') {
      const url = await node('bench/ceiling.ts');
      return { target: url, wsTargets: [url], stop };
    }
    if (kind === 'embedded') {
      const url = await node('apps/relay/src/main.ts');
      return { target: url, wsTargets: [url], stop };
    }
    const redisPort = await freePort();
    launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    const ingress = await node('apps/ingress/src/main.ts', env);
    const gateways = await Promise.all(Array.from({ length: kind === 'fanout' ? 2 : 1 }, () => node('apps/gateway/src/main.ts', env)));
    return { target: ingress, wsTargets: gateways, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function runLoad<T>(script: string, env: Record<string, string>): T {
  return runLoadOnCore1<T>(script, { SECRET, DURATION_MS: String(DURATION_MS), ...env });
}

async function s1(kind: 'ceiling' | 'embedded' | 'split'): Promise<S1Result> {
  const topology = await start(kind);
  try {
    const result = runLoad<S1Result>('bench/load.ts', { TARGET: topology.target, WS_TARGET: topology.wsTargets[0]! });
    process.stdout.write(`  S1 ${kind.padEnd(9)} ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await topology.stop();
  }
}

async function fanout(): Promise<FanoutResult> {
  const topology = await start('fanout');
  try {
    const result = runLoad<FanoutResult>('bench/fanout.ts', {
      TARGET: topology.target,
      WS_TARGETS: topology.wsTargets.join(','),
      CLIENTS: '200',
      RATE: '500',
    });
    process.stdout.write(`  fan-out      ${JSON.stringify(result)}\n`);
    return result;
  } finally {
    await topology.stop();
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function allScenarios(): Promise<void> {
  process.stdout.write(
    `Hookway benchmarks: ${ROUNDS} rounds, ${DURATION_MS / 1000} s per scenario` +
      `${hasTaskset ? ' (servers and Redis on core 0, load generator on core 1)' : ' (taskset missing: NOT pinned)'}\n`,
  );
  const rounds: { ceiling: S1Result; embedded: S1Result; split: S1Result; fanout: FanoutResult }[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    process.stdout.write(`round ${i}\n`);
    const ceiling = await s1('ceiling');
    const embedded = await s1('embedded');
    const split = await s1('split');
    rounds.push({ ceiling, embedded, split, fanout: await fanout() });
  }

  const ratio = (kind: 'embedded' | 'split') => rounds.map((r) => r[kind].eventsPerSec / r.ceiling.eventsPerSec);
  const s1Delivered = rounds.every((r) => [r.embedded, r.split].every((x) => x.delivered === x.acked && x.failed === 0));
  const fanoutDelivered = rounds.every((r) => r.fanout.delivered === r.fanout.expectedDeliveries && r.fanout.failed === 0);
  const m = (f: (r: (typeof rounds)[number]) => number) => Number(median(rounds.map(f)).toFixed(2));
  const summary = {
    rounds,
    s1: {
      ceilingEventsPerSec: m((r) => r.ceiling.eventsPerSec),
      embeddedEventsPerSec: m((r) => r.embedded.eventsPerSec),
      splitEventsPerSec: m((r) => r.split.eventsPerSec),
      embeddedRatio: Number(median(ratio('embedded')).toFixed(3)),
      splitRatio: Number(median(ratio('split')).toFixed(3)),
      allDelivered: s1Delivered,
    },
    fanout: { p50Ms: m((r) => r.fanout.p50Ms), p99Ms: m((r) => r.fanout.p99Ms), allDelivered: fanoutDelivered },
  };
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  writeFileSync(`${ROOT}/bench/results/latest.json`, `${JSON.stringify(summary, null, 2)}\n`);

  const row = (name: string, k: 'ceiling' | 'embedded' | 'split') =>
    `| ${name} | ${m((r) => r[k].eventsPerSec)} | ${m((r) => r[k].p50Ms)} | ${m((r) => r[k].p99Ms)} |`;
  process.stdout.write(`
| S1 (median of ${ROUNDS}) | events/s | p50 ms | p99 ms |
|---|---|---|---|
${row('bare ceiling (node:http + ws)', 'ceiling')}
${row('Hookway embedded', 'embedded')}
${row('Hookway split (ingress + gateway + Redis)', 'split')}

embedded / ceiling per round: ${ratio('embedded')
    .map((x) => x.toFixed(2))
    .join(', ')} — median ${summary.s1.embeddedRatio} (target ≥ 0.70)
split / ceiling per round:    ${ratio('split')
    .map((x) => x.toFixed(2))
    .join(', ')} — median ${summary.s1.splitRatio}
S1: every acknowledged event delivered: ${s1Delivered ? 'yes' : 'NO'}

fan-out (200 clients on 2 gateways, 500 events/s for ${DURATION_MS / 1000} s): p50 ${summary.fanout.p50Ms} ms, p99 ${summary.fanout.p99Ms} ms (medians)
fan-out: every delivery made: ${fanoutDelivered ? 'yes' : 'NO'}
`);
  const scaleDelivered = await runScale();
  if (!s1Delivered || !fanoutDelivered || !scaleDelivered) process.exitCode = 1;
}

// `pnpm bench scale` runs the scale scenario alone (it needs no ceiling round to compare with).
if (process.argv[2] === 'scale') {
  if (!(await runScale())) process.exitCode = 1;
} else if (process.argv[2] === undefined) {
  await allScenarios();
} else {
  throw new Error(`unknown scenario ${process.argv[2]}: run \`pnpm bench\` (all) or \`pnpm bench scale\``);
}
