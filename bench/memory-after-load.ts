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
 *   BREAKDOWN=1 …                                                what the RSS after is made of: V8's heap spaces and the
 *                                                                memory outside the heap (physical MiB), before and after
 *                                                                a full GC (bench/heap-spaces-probe.mjs), and the RSS then
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSecOf, rssBytesOf } from './proc-stats.ts';
import { processGroup, ROOT, runLoadOnCore1 } from './processes.ts';

const RUNS = Number(process.env.RUNS ?? 1);
const EVENTS = Number(process.env.EVENTS ?? 25_000);
const extraFlags = (process.env.NODE_EXTRA_FLAGS ?? '').split(' ').filter(Boolean);
const BREAKDOWN = process.env.BREAKDOWN === '1';
const MIB = 1024 * 1024;
const spacesFile = join(tmpdir(), `hookway-memory-after-load-${process.pid}.jsonl`);

type Spaces = Record<string, { physicalBytes: number; usedBytes: number }>;

/** Heap spaces before and after a full GC (the probe's two lines), and the RSS once it is done. */
async function breakdown(pid: number): Promise<Record<string, unknown>> {
  rmSync(spacesFile, { force: true });
  process.kill(pid, 'SIGUSR2');
  const lines = () => (existsSync(spacesFile) ? readFileSync(spacesFile, 'utf8').trim().split('\n') : []);
  for (let waitedMs = 0; lines().length < 2; waitedMs += 50) {
    if (waitedMs > 10_000) throw new Error('the heap-spaces probe did not answer');
    await sleep(50);
  }
  const [before, after] = lines().map((line) => JSON.parse(line) as Spaces);
  const mib = (bytes: number) => +(bytes / MIB).toFixed(1);
  const physical = Object.fromEntries(
    Object.keys(before!)
      .filter((name) => before![name]!.physicalBytes > 0 || after![name]!.physicalBytes > 0)
      .map((name) => [
        name,
        `${mib(before![name]!.physicalBytes)} → ${mib(after![name]!.physicalBytes)} (used ${mib(before![name]!.usedBytes)} → ${mib(after![name]!.usedBytes)})`,
      ]),
  );
  return { rssAfterGcMiB: mib(rssBytesOf([pid])), physicalMiBBeforeToAfterGc: physical };
}

for (let run = 1; run <= RUNS; run++) {
  const group = processGroup();
  try {
    const probe = ['--expose-gc', '--import', `${ROOT}bench/heap-spaces-probe.mjs`];
    const { url, pid } = await group.start(
      'apps/relay/src/main.ts',
      BREAKDOWN ? { HEAP_SPACES_OUT: spacesFile, HEAP_SPACES_GC: '1' } : {},
      { nodeFlags: [...extraFlags, ...(BREAKDOWN ? probe : [])] },
    );
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
      ...(BREAKDOWN ? await breakdown(pid) : {}),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    if (load.delivered !== EVENTS) process.stdout.write(`MISSING: ${EVENTS - Number(load.delivered)} of ${EVENTS} events not delivered\n`);
  } finally {
    await group.stop();
    rmSync(spacesFile, { force: true });
  }
}
