/**
 * The embedded relay's memory log once the dedup window is full (docs/benchmarks.md, "the memory log's event ids"): every
 * publish then forgets the oldest id, by expiry or past dedupMaxIds, which the 7-s benches never reach. In-process
 * (MemoryEventLog with a fake clock, bench-like ids, 600-byte bodies); prints the CPU ns per publish of the second half.
 *
 *   node --import tsx bench/id-table-steady-state.ts              STEP_MS=5 (120 000 ids in 600 s), N=400000
 *   STEP_MS=1 …                                                   600 000 ids > dedupMaxIds 200 000: evictions
 *   HOOKWAY_ROOT=/path/to/other/checkout …                        that checkout's MemoryEventLog (before/after)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AppSecret } from '@hookway/protocol';
import type { MemoryEventLog as MemoryEventLogClass } from '../packages/bus/src/index.ts';
import { SERVER_ROOT } from './processes.ts';

const N = Number(process.env.N ?? 400_000);
const STEP_MS = Number(process.env.STEP_MS ?? 5);
const { MemoryEventLog } = (await import(pathToFileURL(resolve(SERVER_ROOT, 'packages/bus/src/index.ts')).href)) as {
  MemoryEventLog: typeof MemoryEventLogClass;
};

const bot = AppSecret.of('steadyStateBot');
let nowMs = 1_796_000_000_000;
const log = new MemoryEventLog({
  historyMaxEvents: 10_000,
  historyMaxAgeMs: 600_000,
  historyMaxBytes: 64 << 20,
  dedupWindowMs: 600_000,
  nowMs: () => nowMs,
});
const body = Buffer.alloc(600, 0x61);
const ids = Array.from({ length: N }, (_, i) => `GROUP_AT_MESSAGE_CREATE:steady${process.pid}n${i}`);
const cpuUs = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
let secondHalfStartUs = 0;
for (let i = 0; i < N; i++) {
  if (i === N / 2) secondHalfStartUs = cpuUs();
  nowMs += STEP_MS;
  await log.publish(bot, { eventId: ids[i], body });
}
const nsPerPublish = Math.round(((cpuUs() - secondHalfStartUs) * 1000) / (N - N / 2));
process.stdout.write(`${JSON.stringify({ checkout: SERVER_ROOT, N, STEP_MS, nsPerPublish })}\n`);
await log.close();
