/**
 * Where the fixed-rate tail comes from: one embedded relay (core 0) goes through the bench's S1 sequence — the closed
 * loop (bench/load.ts, DURATION_MS 10 000, no warm-up), then 500/s and 2 000/s open loop (bench/fanout.ts, one client,
 * RATE_DURATION_MS 5 000) — with `--trace-gc` and an event-loop delay probe (bench/loop-delay-probe.mjs). Prints,
 * per phase: the webhook→client p99, the event loop's delay (max, p99.9), the GC pauses (count, sum, largest,
 * by kind) and, with NODE_FLAGS=--trace-gc-nvp, the bytes allocated, surviving and promoted per event. Stall sizes survive a busy machine far better than p99s.
 *
 *   node --import tsx bench/stalls.ts [dist|path/to/built.mjs] [extra env as K=V …]
 *
 * NODE_FLAGS adds node options to the server (e.g. `--trace-gc-nvp`); RAW_OUT=file keeps the server's whole output. Linux only (taskset, SIGUSR2).
 */
import { writeFileSync } from 'node:fs';
import { ROOT, freePort, processGroup, runLoadOnCore1, waitFor } from './processes.ts';

const file = process.argv[2] === undefined || process.argv[2] === 'dist' ? `${ROOT}dist/hookway.mjs` : process.argv[2];
const extraEnv = Object.fromEntries(process.argv.slice(3).map((kv) => kv.split('=', 2) as [string, string]));
const SECRET = 'BenchSecret0123456789';
const DURATION_MS = process.env.DURATION_MS ?? '10000';
const RATE_DURATION_MS = process.env.RATE_DURATION_MS ?? '5000';

const port = await freePort();
const nodeFlags = [
  '--trace-gc',
  '--import',
  `${ROOT}bench/loop-delay-probe.mjs`,
  ...(process.env.NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];
const group = processGroup();
const child = group.launch(
  process.execPath,
  [...nodeFlags, file],
  { PORT: String(port), CLIENT_KEYS_FILE: `/tmp/hookway-stalls-${process.pid}.json`, ...extraEnv },
  { stdout: 'pipe' },
);
let out = '';
child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
const url = `http://127.0.0.1:${port}`;

/** Asks the probe for its marker and waits until it is in the output. */
async function mark(): Promise<void> {
  const before = out.split('@@loop-delay').length;
  child.kill('SIGUSR2');
  while (out.split('@@loop-delay').length === before) await new Promise((r) => setTimeout(r, 20));
}

interface GcPause {
  kind: string;
  ms: number;
}
function pausesIn(text: string): GcPause[] {
  const pauses: GcPause[] = [];
  for (const m of text.matchAll(/ms: ([A-Za-z-]+(?: \(reduce\))?) [^\n]*?MB, ([\d.]+) \/ ([\d.]+) ms/g)) {
    pauses.push({ kind: m[1]!, ms: Number(m[2]) });
  }
  return pauses;
}
/**
 * With `--trace-gc-nvp`: bytes allocated, and bytes that survived a scavenge (copied within the young generation or
 * promoted to the old), per event — figures of the code, not of the machine's load.
 */
function volumesPerEvent(text: string, events: number) {
  const sum = (field: string) => [...text.matchAll(new RegExp(` ${field}=(\\d+)`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
  if (!text.includes(' allocated=')) return undefined;
  const per = (field: string) => Math.round(sum(field) / events);
  return { allocatedBytes: per('allocated'), survivedBytes: per('new_space_survived'), promotedBytes: per('promoted') };
}
function summary(pauses: GcPause[]) {
  const byKind: Record<string, { count: number; sumMs: number; maxMs: number }> = {};
  for (const p of pauses) {
    const k = (byKind[p.kind] ??= { count: 0, sumMs: 0, maxMs: 0 });
    k.count++;
    k.sumMs = Math.round((k.sumMs + p.ms) * 100) / 100;
    k.maxMs = Math.max(k.maxMs, p.ms);
  }
  return {
    largestMs: pauses
      .map((p) => p.ms)
      .sort((a, b) => b - a)
      .slice(0, 5),
    byKind,
  };
}

try {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'relay', [child]);
  const phases: [string, () => Record<string, unknown>][] = [
    ['closed', () => runLoadOnCore1('bench/load.ts', { TARGET: url, SECRET, DURATION_MS, WARMUP_MS: '0' })],
    ['r500', () => runLoadOnCore1('bench/fanout.ts', { TARGET: url, SECRET, CLIENTS: '1', RATE: '500', DURATION_MS: RATE_DURATION_MS })],
    ['r2000', () => runLoadOnCore1('bench/fanout.ts', { TARGET: url, SECRET, CLIENTS: '1', RATE: '2000', DURATION_MS: RATE_DURATION_MS })],
  ];
  await mark();
  for (const [name, run] of phases) {
    const from = out.length;
    const r = run();
    await mark();
    const text = out.slice(from);
    const delay = JSON.parse(/@@loop-delay (.*)\n/.exec(text)![1]!) as Record<string, number>;
    process.stdout.write(
      `${JSON.stringify({ phase: name, eventsPerSec: r.eventsPerSec, p99Ms: r.p99Ms, delivered: r.delivered, loopDelay: delay, gc: summary(pausesIn(text)), perEvent: volumesPerEvent(text, Number(r.delivered)) })}\n`,
    );
  }
} finally {
  if (process.env.RAW_OUT) writeFileSync(process.env.RAW_OUT, out);
  await group.stop();
}
