/**
 * Closed-loop load generator for S1 (and the every-core scenario): one raw WebSocket client, signed ~600-byte
 * GROUP_AT_MESSAGE_CREATE webhooks posted with IN_FLIGHT (32) in flight for DURATION_MS after WARMUP_MS. Reads the
 * server processes' CPU time (SERVER_PIDS, /proc) over the measured window and their RSS at the end. Prints one JSON
 * line: throughput, webhook→client latency, CPU µs per event (the servers' and its own), RSS.
 *
 * Lean, so that on a shared core (the every-core scenario) it leaves room for the server: every request is signed and
 * laid out before the run (bench/post.ts `presignEvents`: PRESIGN_PER_SEC (12 000) × (WARMUP_MS + DURATION_MS) of
 * them, ~55 µs of signing each, before any load); IN_FLIGHT raw keep-alive connections with one request each
 * (bench/lean-http-client.ts: status code and end of body only); deliveries read by bench/lean-ws-client.ts and found
 * by a byte scan for the event number; per-event bookkeeping in typed arrays. If the server outruns the pre-signed
 * requests, the measured window ends there (`presignedRanOut`; events/s stay right, the window is shorter).
 */
import { connectLean } from './lean-ws-client.ts';
import { connectHttp, type LeanHttpConnection, type ParsedResponse } from './lean-http-client.ts';
import { assertSignaturesLast, presignEvents } from './post.ts';
import { delta, readCounters, type NodeCounters } from './redis-stats.ts';
import { cpuSecOf, cpuSplitOf, eventNumberIn, idNeedle, percentile, pidsFromEnv, pollUntil, rssBytesOf } from './proc-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
/** Where the client connects: the same server, or a separate gateway in split mode. */
const wsTarget = new URL(process.env.WS_TARGET ?? target.href);
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
const warmupMs = Number(process.env.WARMUP_MS ?? 1_000);
const inFlight = Number(process.env.IN_FLIGHT ?? 32);
/** Pre-signed events per second of run: above any rate this 2-core box reaches (the ceiling: ~8 000/s). */
const presignPerSec = Number(process.env.PRESIGN_PER_SEC ?? 12_000);
const serverPids = pidsFromEnv('SERVER_PIDS');
/** BYSTANDER_PIDS: other servers left idle on the same core (bench/run.ts's interleaved slices): their CPU in the window. */
const bystanderPids = pidsFromEnv('BYSTANDER_PIDS');
/** REDIS_PORT: read that Redis's counters (INFO) at the start and end of the measured window. */
const redisPort = Number(process.env.REDIS_PORT ?? 0);

const total = Math.ceil((presignPerSec * (warmupMs + durationMs)) / 1000) + inFlight;
const idPrefix = `GROUP_AT_MESSAGE_CREATE:bench${process.pid}n`;
const needle = idNeedle(idPrefix);
const presigned = presignEvents(target, secret, idPrefix, total);
assertSignaturesLast(presigned, warmupMs + durationMs, 'shorten DURATION_MS or lower PRESIGN_PER_SEC');

/** performance.now() when event n's request was written (0: not yet). */
const sentAtMs = new Float64Array(total + 1);
/** 1 when event n was posted inside the measured window (not the warm-up). */
const measuredFlags = new Uint8Array(total + 1);
/** 1 when event n was answered 200. */
const ackedFlags = new Uint8Array(total + 1);
/** Deliveries of event n to the client (exactly one is right). */
const deliveries = new Uint8Array(total + 1);
/** Webhook→client latency of the first delivery of each measured event. */
const latenciesMs = new Float64Array(total);
let latencyCount = 0;
let acked = 0;
let failed = 0;
let measuring = false;
let stop = false;
let presignedRanOut = false;
let next = 0;

const ws = await connectLean(new URL(`ws://${wsTarget.host}/ws?secret=${secret}`), (buf, start, end, receivedAtMs) => {
  const n = eventNumberIn(buf, start, end, needle);
  if (n <= 0 || n > total || sentAtMs[n] === 0) return;
  if (deliveries[n]!++ === 0 && measuredFlags[n] === 1) latenciesMs[latencyCount++] = receivedAtMs - sentAtMs[n]!;
});

/** One closed loop per connection: the next request goes out as soon as the previous one is answered. */
let idle = 0;
let settleIdle: () => void = () => undefined;
const allIdle = new Promise<void>((r) => (settleIdle = r));
const goIdle = () => {
  if (++idle === inFlight) settleIdle();
};

function openLoop(): Promise<void> {
  let inFlightEvent = 0;
  let connection: LeanHttpConnection | undefined;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    goIdle();
  };
  const sendNext = () => {
    if (stop) return finish();
    if (next >= total) {
      presignedRanOut = true;
      stop = true;
      return finish();
    }
    const n = ++next;
    inFlightEvent = n;
    if (measuring) measuredFlags[n] = 1;
    sentAtMs[n] = performance.now();
    connection!.send(presigned.request(n));
  };
  const onResponse = (response: ParsedResponse) => {
    const n = inFlightEvent;
    if (n === 0) {
      process.stderr.write('load.ts: a response to no request\n');
      failed++;
      return;
    }
    inFlightEvent = 0;
    if (response.status !== 200) failed++;
    else if (measuredFlags[n] === 1) {
      acked++;
      ackedFlags[n] = 1;
    } else ackedFlags[n] = 1;
    if (!response.close) sendNext();
  };
  const onClosed = (unexpected: string | undefined) => {
    if (inFlightEvent !== 0) {
      // The request in flight went unanswered: a failed POST, as node's http client would report it.
      failed++;
      inFlightEvent = 0;
    }
    if (unexpected !== undefined && !stop) process.stderr.write(`load.ts: a connection closed (${unexpected}); reconnecting\n`);
    if (stop) return finish();
    void connectHttp(target.hostname, Number(target.port || 80), onResponse, onClosed).then(
      (c) => {
        connection = c;
        sendNext();
      },
      (err: unknown) => {
        process.stderr.write(`load.ts: reconnect failed: ${String(err)}\n`);
        finish();
      },
    );
  };
  return connectHttp(target.hostname, Number(target.port || 80), onResponse, onClosed).then((c) => {
    connection = c;
    connections.push(() => connection!.close());
    sendNext();
  });
}

let cpuAtStart = 0;
let bystanderCpuAtStart = 0;
let cpuByPidAtStart: number[] = [];
let splitAtStart: [number, number][] = [];
let ownCpuAtStart = process.cpuUsage();
let redisAtStart: Promise<NodeCounters> | undefined;
/** The measured window on the monotonic clock (ns), for cutting CPU profiles to it (bench/cpu-profile.ts). */
let windowStartNs = 0n;
const connections: (() => void)[] = [];

setTimeout(() => {
  measuring = true;
  cpuAtStart = cpuSecOf(serverPids);
  bystanderCpuAtStart = cpuSecOf(bystanderPids);
  cpuByPidAtStart = serverPids.map((pid) => cpuSecOf([pid]));
  splitAtStart = serverPids.map(cpuSplitOf);
  windowStartNs = process.hrtime.bigint();
  ownCpuAtStart = process.cpuUsage();
  if (redisPort) redisAtStart = readCounters(redisPort);
}, warmupMs);
const startedAt = Date.now();
const stopTimer = setTimeout(() => (stop = true), warmupMs + durationMs);
await Promise.all(Array.from({ length: inFlight }, openLoop));
await allIdle;
clearTimeout(stopTimer);
const ownCpu = process.cpuUsage(ownCpuAtStart);
const measuredMs = Date.now() - startedAt - warmupMs;

/** Acknowledged events of the measured window, and how many of them reached the client. */
const deliveredOfAcked = () => {
  let d = 0;
  for (let n = 1; n <= next; n++) if (measuredFlags[n] === 1 && ackedFlags[n] === 1 && deliveries[n]! > 0) d++;
  return d;
};
// Let the last frames arrive.
await pollUntil(() => deliveredOfAcked() >= acked, 5000);
const delivered = deliveredOfAcked();
const serverCpuSec = cpuSecOf(serverPids) - cpuAtStart;
const bystanderCpuSec = cpuSecOf(bystanderPids) - bystanderCpuAtStart;
const windowEndNs = process.hrtime.bigint();
const cpuByPid = serverPids.map((pid, i) => cpuSecOf([pid]) - cpuByPidAtStart[i]!);
const redis = redisAtStart ? delta([await redisAtStart], [await readCounters(redisPort)])[0] : undefined;
let duplicated = 0;
for (let n = 1; n <= next; n++) if (deliveries[n]! > 1) duplicated++;
for (const close of connections) close();
await ws.close();

if (presignedRanOut) {
  process.stderr.write(`load.ts: the ${total} pre-signed events ran out after ${measuredMs} ms of measuring: raise PRESIGN_PER_SEC\n`);
}
const sortedLatencies = latenciesMs.subarray(0, latencyCount).sort();
const ownCpuUs = ownCpu.user + ownCpu.system;
process.stdout.write(
  `${JSON.stringify({
    acked,
    delivered,
    failed,
    /** Events delivered more than once (a defect: each must arrive exactly once). */
    duplicated,
    measuredMs,
    eventsPerSec: Math.round((delivered / measuredMs) * 1000),
    p50Ms: percentile(sortedLatencies, 50),
    p99Ms: percentile(sortedLatencies, 99),
    serverCpuSec: Number(serverCpuSec.toFixed(2)),
    /** BYSTANDER_PIDS' CPU seconds over the measured window (0 without them). */
    bystanderCpuSec: Number(bystanderCpuSec.toFixed(3)),
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
    /** This generator's own CPU over the measured window, µs per acknowledged event (its cost on its core). */
    generatorCpuUsPerEvent: acked > 0 ? Number((ownCpuUs / acked).toFixed(1)) : NaN,
    /** The same split into user and system (kernel: the loopback TCP sends and reads) time. */
    generatorUserSysUsPerEvent: [ownCpu.user, ownCpu.system].map((us) => (acked > 0 ? Number((us / acked).toFixed(1)) : NaN)),
    /** The same as % of one core: near 100, the figures are partly the generator's. */
    generatorCpuPct: Math.round(ownCpuUs / 10 / measuredMs),
    presigned: total,
    presignedRanOut,
  })}\n`,
);
