/**
 * Closed-loop load generator for S1 (and the every-core scenario): one raw WebSocket client, signed ~600-byte
 * GROUP_AT_MESSAGE_CREATE webhooks posted with IN_FLIGHT (32) in flight for DURATION_MS after WARMUP_MS. Reads the
 * server processes' CPU time (SERVER_PIDS, /proc) over the measured window and their RSS at the end. Prints one JSON
 * line: throughput, webhook→client latency, CPU µs per event, RSS.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { postSignedEvent } from './post.ts';
import { delta, readCounters, type NodeCounters } from './redis-stats.ts';
import { cpuSecOf, cpuSplitOf, idOfFrame, percentile, pidsFromEnv, rssBytesOf } from './proc-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
/** Where the client connects: the same server, or a separate gateway in split mode. */
const wsTarget = new URL(process.env.WS_TARGET ?? target.href);
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
const warmupMs = Number(process.env.WARMUP_MS ?? 1_000);
const inFlight = Number(process.env.IN_FLIGHT ?? 32);
const serverPids = pidsFromEnv('SERVER_PIDS');
/** REDIS_PORT: read that Redis's counters (INFO) at the start and end of the measured window. */
const redisPort = Number(process.env.REDIS_PORT ?? 0);
let redisAtStart: Promise<NodeCounters> | undefined;

const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
/** Per in-flight event: when it was posted, and whether it belongs to the measured window (not warm-up). */
const sent = new Map<string, { atNs: bigint; measured: boolean }>();
const latenciesMs: number[] = [];
let acked = 0;
let failed = 0;
let delivered = 0;
let measuring = false;
let stop = false;
let cpuAtStart = 0;
let cpuByPidAtStart: number[] = [];
let splitAtStart: [number, number][] = [];
/** The measured window on the monotonic clock (ns), for cutting CPU profiles to it (bench/cpu-profile.ts). */
let windowStartNs = 0n;

const ws = new WebSocket(`ws://${wsTarget.host}/ws?secret=${secret}`, { perMessageDeflate: false, skipUTF8Validation: true });
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
ws.on('message', (data: Buffer) => {
  const id = idOfFrame(data);
  const entry = sent.get(id);
  if (entry === undefined) return;
  sent.delete(id);
  if (entry.measured) {
    delivered++;
    latenciesMs.push(Number(process.hrtime.bigint() - entry.atNs) / 1e6);
  }
});

let seq = 0;
async function postOne(): Promise<void> {
  const id = `GROUP_AT_MESSAGE_CREATE:bench${process.pid}n${++seq}`;
  const measured = measuring;
  const status = await postSignedEvent(target, agent, secret, id, () => {
    sent.set(id, { atNs: process.hrtime.bigint(), measured });
  });
  if (status !== 200) failed++;
  else if (measured) acked++;
}

async function worker(): Promise<void> {
  while (!stop) await postOne();
}

setTimeout(() => {
  measuring = true;
  cpuAtStart = cpuSecOf(serverPids);
  cpuByPidAtStart = serverPids.map((pid) => cpuSecOf([pid]));
  splitAtStart = serverPids.map(cpuSplitOf);
  windowStartNs = process.hrtime.bigint();
  if (redisPort) redisAtStart = readCounters(redisPort);
}, warmupMs);
const startedAt = Date.now();
setTimeout(() => (stop = true), warmupMs + durationMs);
await Promise.all(Array.from({ length: inFlight }, worker));
const measuredMs = Date.now() - startedAt - warmupMs;

// Let the last frames arrive.
const deadline = Date.now() + 5000;
while (delivered < acked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const serverCpuSec = cpuSecOf(serverPids) - cpuAtStart;
const windowEndNs = process.hrtime.bigint();
const cpuByPid = serverPids.map((pid, i) => cpuSecOf([pid]) - cpuByPidAtStart[i]!);
const redis = redisAtStart ? delta([await redisAtStart], [await readCounters(redisPort)])[0] : undefined;
ws.close();
agent.destroy();

latenciesMs.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    acked,
    delivered,
    failed,
    measuredMs,
    eventsPerSec: Math.round((delivered / measuredMs) * 1000),
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    serverCpuSec: Number(serverCpuSec.toFixed(2)),
    cpuUsPerEvent: acked > 0 ? Math.round((serverCpuSec * 1e6) / acked) : NaN,
    /** User and system CPU µs/event per server process. */
    userSysUsPerEventByProcess: serverPids.map((pid, i) =>
      cpuSplitOf(pid).map((sec, k) => (acked > 0 ? Math.round(((sec - splitAtStart[i]![k]!) * 1e6) / acked) : NaN)),
    ),
    /** The same per server process, in SERVER_PIDS order (split: Redis, ingress, gateway). */
    cpuUsPerEventByProcess: cpuByPid.map((sec) => (acked > 0 ? Math.round((sec * 1e6) / acked) : NaN)),
    rssMiB: Number((rssBytesOf(serverPids) / 2 ** 20).toFixed(1)),
    windowNs: [String(windowStartNs), String(windowEndNs)],
    redis,
  })}\n`,
);
