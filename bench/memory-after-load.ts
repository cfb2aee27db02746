/**
 * RSS of the embedded relay after a FIXED number of events (issue 11, target 3: ≤ 100 MiB under load). The bench's S1
 * reads RSS after as many events as the machine managed (11 000–37 000 here), and RSS grows with the count (history,
 * dedup ids for 600 s), so only a fixed count compares two builds on a busy machine. The relay starts as the bench
 * starts it (the built file with the production node flags; HOOKWAY_ROOT, BENCH_NODE_FLAGS and BENCH_START as for
 * `pnpm bench`) on core 0; bench/fixed-count-load.ts posts EVENTS (25 000) on core 1, 32 in flight, one raw client.
 * Prints one JSON line per run: RSS idle and after (MiB), the relay's CPU µs per event, the load's counts.
 *
 *   node --import tsx bench/memory-after-load.ts                 RUNS=1 EVENTS=25000
 *   NODE_EXTRA_FLAGS='--optimize-for-size' …                     extra node flags for the relay (A/B a V8 flag)
 */
import { cpuSecOf, rssBytesOf } from './proc-stats.ts';
import { processGroup, runLoadOnCore1 } from './processes.ts';

const RUNS = Number(process.env.RUNS ?? 1);
const EVENTS = Number(process.env.EVENTS ?? 25_000);
const extraFlags = (process.env.NODE_EXTRA_FLAGS ?? '').split(' ').filter(Boolean);
const MIB = 1024 * 1024;

for (let run = 1; run <= RUNS; run++) {
  const group = processGroup();
  try {
    const { url, pid } = await group.start('apps/relay/src/main.ts', {}, { nodeFlags: extraFlags });
    const idleRssMiB = rssBytesOf([pid]) / MIB;
    const cpuAtStart = cpuSecOf([pid]);
    const load = runLoadOnCore1<Record<string, number>>('bench/fixed-count-load.ts', { TARGET: url, EVENTS: String(EVENTS) });
    const cpuUsPerEvent = ((cpuSecOf([pid]) - cpuAtStart) * 1e6) / EVENTS;
    const rssMiB = rssBytesOf([pid]) / MIB;
    const figures = {
      run,
      idleRssMiB: +idleRssMiB.toFixed(1),
      rssMiB: +rssMiB.toFixed(1),
      cpuUsPerEvent: Math.round(cpuUsPerEvent),
      ...load,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    if (load.delivered !== EVENTS) process.stdout.write(`MISSING: ${EVENTS - Number(load.delivered)} of ${EVENTS} events not delivered\n`);
  } finally {
    await group.stop();
  }
}
