/**
 * Open-loop load generator (fan-out A and B, S1 at a fixed rate, ack latency): one bot, CLIENTS raw clients spread
 * over the servers in WS_TARGETS, signed events posted at a fixed RATE per second for DURATION_MS (open loop: event k
 * is due at start + k/RATE whatever is still unanswered; its latencies run from the 2 ms tick that hands it over — how
 * late that was at worst is `sendLagMaxMs` — and include any wait for a free connection). One warm-up event must
 * reach every client first (every subscription live); with WARMUP_MS, events then go at the same rate for that long,
 * unmeasured, until every one was answered and delivered, so that what is measured is the servers' steady state
 * (their code compiled, their buffers grown), not their first seconds.
 * The posting side is lean too, so that its own CPU does not colour the latencies: every request is signed and laid
 * out before the run (bench/post.ts `presignEvents`, as bench/load.ts does) and written as ready-made bytes over raw
 * keep-alive connections (bench/lean-http-client.ts `LeanHttpPool`: one opened whenever a due event finds none idle,
 * up to 256, one request in flight each); every answer's status is read, a POST whose connection closed first fails.
 * Reads the server processes' CPU time (SERVER_PIDS; FRAME_PIDS: the ones sending the frames, default the same)
 * and RSS from /proc. The clients are lean (bench/lean-ws-client.ts: raw sockets, a byte scan for the event number, typed
 * arrays for the bookkeeping), so that one core of generator can take 100 000 frames/s. Prints one JSON line: deliveries expected and made, webhook→client latency over all
 * deliveries, webhook POST → response (ack) latency, POSTs never answered, CPU per event and per frame.
 */
import { LeanHttpPool } from './lean-http-client.ts';
import { connectLean, type LeanWs } from './lean-ws-client.ts';
import { assertSignaturesLast, presignEvents } from './post.ts';
import {
  cpuSecOf,
  cpuSplitOf,
  eventNumberIn,
  idNeedle,
  percentile,
  pidsFromEnv,
  pollUntil,
  rssBytesOf,
  writeCallsOf,
} from './proc-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
const wsTargets = (process.env.WS_TARGETS ?? target.href).split(',').map((u) => new URL(u));
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const clientCount = Number(process.env.CLIENTS ?? 200);
const ratePerSec = Number(process.env.RATE ?? 500);
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
/** How long to wait after the last POST for answers and deliveries still due. */
const drainMs = Number(process.env.DRAIN_MS ?? 10_000);
/** Unmeasured load at RATE before the measured run (0: none). */
const warmupMs = Number(process.env.WARMUP_MS ?? 0);
/** At most this many connections (more requests wait for one, as with node's http Agent of maxSockets 256 before). */
const MAX_CONNECTIONS = 256;
/** How long the warm-up event may take to reach every client. */
const WARMUP_TIMEOUT_MS = 30_000;
/** Opening the clients, between signing and the warm-up (2 000 of them take seconds), with room to spare. */
const CONNECTING_ALLOWANCE_MS = 60_000;
const serverPids = pidsFromEnv('SERVER_PIDS');
const framePids = process.env.FRAME_PIDS ? pidsFromEnv('FRAME_PIDS') : serverPids;

// The receiving side is kept cheap so that the figures are the server's: lean clients (bench/lean-ws-client.ts),
// events numbered 1…total (total + 1: the warm-up event; after it, the WARMUP_MS load) and found in a frame by a byte
// scan, and per-event bookkeeping in typed arrays indexed by that number (no strings, maps or growing arrays per delivery).
const total = Math.round((ratePerSec * durationMs) / 1000);
const warmupEvent = total + 1;
const warmupLoad = Math.round((ratePerSec * warmupMs) / 1000);
const idPrefix = `GROUP_AT_MESSAGE_CREATE:fanout${process.pid}n`;
const needle = idNeedle(idPrefix);
const presigned = presignEvents(target, secret, idPrefix, warmupEvent + warmupLoad);
assertSignaturesLast(
  presigned,
  CONNECTING_ALLOWANCE_MS + WARMUP_TIMEOUT_MS + 2 * warmupMs + durationMs + 2 * drainMs,
  'shorten DURATION_MS, WARMUP_MS or DRAIN_MS',
);
/** performance.now() when the tick handed event n to the pool (0: not yet). */
const sentAtMs = new Float64Array(total + 1);
/** Deliveries of event n (each client must get each acknowledged event once). */
const deliveries = new Uint32Array(total + 1);
/** 1 when event n was acknowledged with 200: it must reach every client exactly once. */
const ackedFlags = new Uint8Array(total + 1);
/** Webhook→client latency of every delivery (more than one per client and event would be a defect: not recorded). */
const latenciesMs = new Float64Array(total * clientCount);
let latencyCount = 0;
const ackMs = new Float64Array(total);
let ackCount = 0;
let delivered = 0;
let acked = 0;
let failed = 0;
let warm = 0;
/** The WARMUP_MS load: POSTs answered, acknowledged, and deliveries (checked complete, not timed). */
let warmupAnswered = 0;
let warmupAcked = 0;
let warmupDelivered = 0;
/** Deliveries of each WARMUP_MS event (index: number − warmupEvent − 1): each must reach every client once. */
const warmupDeliveries = new Uint32Array(warmupLoad);
/** Failed POSTs by status (0: the connection closed before the answer, or could not be opened). */
const failedByStatus: Record<number, number> = {};

function onFrame(buf: Buffer, start: number, end: number, receivedAtMs: number): void {
  const n = eventNumberIn(buf, start, end, needle);
  if (n === warmupEvent) {
    warm++;
    return;
  }
  if (n > warmupEvent) {
    if (n - warmupEvent <= warmupLoad) {
      warmupDelivered++;
      warmupDeliveries[n - warmupEvent - 1]!++;
    }
    return;
  }
  if (n <= 0 || n > total) return;
  const sent = sentAtMs[n]!;
  if (sent === 0) return;
  delivered++;
  deliveries[n]!++;
  if (latencyCount < latenciesMs.length) latenciesMs[latencyCount++] = receivedAtMs - sent;
}

// Opened a batch at a time so the servers' accept queues stay short.
const clients: LeanWs[] = [];
for (let from = 0; from < clientCount; from += 100) {
  const batch = Array.from({ length: Math.min(100, clientCount - from) }, (_, j) => {
    const host = wsTargets[(from + j) % wsTargets.length]!.host;
    return connectLean(new URL(`ws://${host}/ws?secret=${secret}`), onFrame);
  });
  clients.push(...(await Promise.all(batch)));
}

let settleWarmup: (status: number) => void = () => undefined;
const warmupEventAnswered = new Promise<number>((r) => (settleWarmup = r));
const pool = new LeanHttpPool(target.hostname, Number(target.port || 80), MAX_CONNECTIONS, (n, status) => {
  if (n === warmupEvent) return settleWarmup(status);
  if (n > warmupEvent) {
    warmupAnswered++;
    if (status === 200) warmupAcked++;
    return;
  }
  if (status === 200) {
    acked++;
    ackedFlags[n] = 1;
    ackMs[ackCount++] = performance.now() - sentAtMs[n]!;
  } else {
    failed++;
    failedByStatus[status] = (failedByStatus[status] ?? 0) + 1;
  }
});

// Warm-up: one event to every client, so every bot subscription and every client is live before timing.
pool.send(presigned.request(warmupEvent), warmupEvent);
const warmStatus = await warmupEventAnswered;
if (warmStatus === 200) await pollUntil(() => warm >= clientCount, WARMUP_TIMEOUT_MS);

/** [user, system] CPU seconds summed over `pids`. */
function splitOf(pids: readonly number[]): [number, number] {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const [u, s] = cpuSplitOf(pid);
    user += u;
    system += s;
  }
  return [user, system];
}

/**
 * Posts events first…first + count − 1 on a fixed schedule — event k is due at start + k/rate, whatever happened to
 * the ones before it — and resolves once all were handed to the pool, with how late the latest send was.
 */
function postAtRate(first: number, count: number, onSend: (n: number, nowMs: number) => void): Promise<number> {
  const startMs = performance.now();
  let posted = 0;
  let lagMaxMs = 0;
  return new Promise<number>((resolve) => {
    const tick = setInterval(() => {
      const nowMs = performance.now();
      const due = Math.min(count, Math.floor(((nowMs - startMs) / 1000) * ratePerSec));
      if (posted < due) lagMaxMs = Math.max(lagMaxMs, nowMs - startMs - ((posted + 1) * 1000) / ratePerSec);
      while (posted < due) {
        const n = first + posted++;
        onSend(n, nowMs);
        pool.send(presigned.request(n), n);
      }
      if (posted >= count) {
        clearInterval(tick);
        resolve(lagMaxMs);
      }
    }, 2);
  });
}

// The WARMUP_MS load, unmeasured: all of it answered and delivered before the measured run starts.
if (warmStatus === 200 && warmupLoad > 0) {
  await postAtRate(warmupEvent + 1, warmupLoad, () => undefined);
  await pollUntil(() => warmupAnswered === warmupLoad && warmupDelivered >= warmupAcked * clientCount, drainMs);
}
const warmupComplete = warmupAnswered === warmupLoad && warmupAcked === warmupLoad && warmupDeliveries.every((d) => d === clientCount);

const ownCpuAtStart = process.cpuUsage();
const cpuAtStart = cpuSecOf(serverPids);
const frameCpuAtStart = cpuSecOf(framePids);
const frameSplitAtStart = splitOf(framePids);
const frameWritesAtStart = writeCallsOf(framePids);
const startedMs = performance.now();
/** How late the measured sends went out against the schedule (the 2 ms tick and any stall of this process), worst case. */
const sendLagMaxMs = await postAtRate(1, total, (n, nowMs) => (sentAtMs[n] = nowMs));

await pollUntil(() => delivered >= acked * clientCount && acked + failed >= total, drainMs);
const ownCpu = process.cpuUsage(ownCpuAtStart);
const windowMs = performance.now() - startedMs;
const serverCpuSec = cpuSecOf(serverPids) - cpuAtStart;
const frameCpuSec = cpuSecOf(framePids) - frameCpuAtStart;
const frameSplit = splitOf(framePids).map((sec, i) => sec - frameSplitAtStart[i]!);
const frameWrites = writeCallsOf(framePids) - frameWritesAtStart;
const rssMiB = Number((rssBytesOf(serverPids) / 2 ** 20).toFixed(1));
const connectionsUsed = pool.connectionCount;
const closing = Promise.all([pool.close(), ...clients.map((ws) => ws.close())]);

let eventsShort = 0;
let deliveredOfAcked = 0;
for (let n = 1; n <= total; n++) {
  if (ackedFlags[n] === 0) continue;
  deliveredOfAcked += deliveries[n]!;
  if (deliveries[n] !== clientCount) eventsShort++;
}
const sortedLatencies = latenciesMs.subarray(0, latencyCount).sort();
const sortedAcks = ackMs.subarray(0, ackCount).sort();
process.stdout.write(
  `${JSON.stringify({
    clients: clientCount,
    ratePerSec,
    /** The warm-up event reached every client, and the WARMUP_MS load was all acknowledged and delivered once each. */
    warmedUp: warm === clientCount && warmupComplete,
    warmupMs,
    posted: total,
    acked,
    failed,
    unanswered: total - acked - failed,
    failedByStatus,
    expectedDeliveries: acked * clientCount,
    /** Deliveries of acknowledged events (an event still unanswered at the end may have been delivered too: not counted). */
    delivered: deliveredOfAcked,
    /** Acknowledged events some client did not get exactly once (0 when every delivery was made once). */
    eventsShort,
    p50Ms: percentile(sortedLatencies, 50),
    p99Ms: percentile(sortedLatencies, 99),
    maxMs: percentile(sortedLatencies, 100),
    ackP50Ms: percentile(sortedAcks, 50),
    ackP99Ms: percentile(sortedAcks, 99),
    ackMaxMs: percentile(sortedAcks, 100),
    serverCpuSec: Number(serverCpuSec.toFixed(2)),
    cpuUsPerEvent: acked > 0 ? Math.round((serverCpuSec * 1e6) / acked) : NaN,
    cpuUsPerFrame: delivered > 0 ? Number(((frameCpuSec * 1e6) / delivered).toFixed(2)) : NaN,
    /** The senders' CPU per frame in user space (node, ws, ours) and in the kernel (the write, loopback's TCP). */
    userUsPerFrame: delivered > 0 ? Number(((frameSplit[0]! * 1e6) / delivered).toFixed(2)) : NaN,
    systemUsPerFrame: delivered > 0 ? Number(((frameSplit[1]! * 1e6) / delivered).toFixed(2)) : NaN,
    /** Frames per write system call of the senders (their other writes, few at these rates, included). */
    framesPerWrite: frameWrites > 0 ? Number((delivered / frameWrites).toFixed(2)) : NaN,
    framesPerCoreSec: frameCpuSec > 0 ? Math.round(delivered / frameCpuSec) : NaN,
    rssMiB,
    /** The load generator's own CPU over the run (% of its one core): near 100, the figures are the generator's. */
    generatorCpuPct: Math.round(((ownCpu.user + ownCpu.system) / 1000 / windowMs) * 100),
    /** The load generator's own CPU µs per event posted (posting, answers and deliveries together). */
    generatorCpuUsPerEvent: Number(((ownCpu.user + ownCpu.system) / total).toFixed(1)),
    /** The latest a send went out behind its schedule (ms): the generator's own share of the latencies. */
    sendLagMaxMs: Number(sendLagMaxMs.toFixed(2)),
    /** Connections open at the end (one was opened whenever a due event found none idle). */
    connections: connectionsUsed,
    /** The load generator's own CPU µs per delivery received (its cost, whatever the servers' speed). */
    generatorCpuUsPerFrame: delivered > 0 ? Number(((ownCpu.user + ownCpu.system) / delivered).toFixed(2)) : NaN,
  })}\n`,
);
await closing;
