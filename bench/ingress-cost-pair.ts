/**
 * Before/after on a busy machine: bench/ingress-cost.ts on two built files alternately (A B, B A, A B, …), then the
 * medians of the server's CPU µs per event (all threads and the main thread). Paired rounds within the same minutes
 * are what survive other work on the box; throughput and p99 are printed but mean little there.
 *
 *   node --import tsx bench/ingress-cost-pair.ts before.mjs after.mjs [rounds=6]
 *
 * DURATION_MS (5 000) is each run's load; NODE_FLAGS and SERVER_CORES pass through to bench/ingress-cost.ts.
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from './processes.ts';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: bench/ingress-cost-pair.ts before.mjs after.mjs [rounds]');
interface Cost {
  cpuUsPerEvent: number;
  mainThreadUsPerEvent: number;
  eventsPerSec: number;
  p99Ms: number;
  failed: number;
}
const runs = new Map<string, Cost[]>([
  [a, []],
  [b, []],
]);
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
for (let i = 0; i < Number(roundsArg ?? 6); i++) {
  for (const file of i % 2 ? [b, a] : [a, b]) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/ingress-cost.ts', file], {
      cwd: ROOT,
      env: { ...process.env, DURATION_MS: process.env.DURATION_MS ?? '5000' },
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Cost;
    runs.get(file)!.push(r);
    process.stdout.write(
      `${file}\tcpu ${r.cpuUsPerEvent}\tmain ${r.mainThreadUsPerEvent}\tev/s ${r.eventsPerSec}\tp99 ${r.p99Ms}\tfailed ${r.failed}\n`,
    );
  }
}
for (const [file, rs] of runs) {
  process.stdout.write(
    `median ${file}: cpu ${median(rs.map((r) => r.cpuUsPerEvent))} µs/event, main thread ${median(rs.map((r) => r.mainThreadUsPerEvent))}\n`,
  );
}
