/**
 * Open-loop load generator (fan-out A and B, S1 at a fixed rate, ack latency): one bot, CLIENTS raw clients spread
 * over the servers in WS_TARGETS, signed events posted at a fixed RATE per second for DURATION_MS (open loop:
 * latency includes any queueing). One warm-up event must reach every client first (every subscription live).
 * Reads the server processes' CPU time (SERVER_PIDS; FRAME_PIDS: the ones sending the frames, default the same)
 * and RSS from /proc. The clients are lean (bench/lean-ws-client.ts: raw sockets, a byte scan for the event number, typed
 * arrays for the bookkeeping), so that one core of generator can take 100 000 frames/s. Prints one JSON line: deliveries expected and made, webhook→client latency over all
 * deliveries, webhook POST → response (ack) latency, POSTs never answered, CPU per event and per frame.
 */
import { Agent } from 'node:http';
import { connectLean, type LeanWs } from './lean-ws-client.ts';
import { postSignedEvent } from './post.ts';
import { cpuSecOf, cpuSplitOf, eventNumberIn, idNeedle, percentile, pidsFromEnv, rssBytesOf, writeCallsOf } from './proc-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
const wsTargets = (process.env.WS_TARGETS ?? target.href).split(',').map((u) => new URL(u));
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const clientCount = Number(process.env.CLIENTS ?? 200);
const ratePerSec = Number(process.env.RATE ?? 500);
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
/** How long to wait after the last POST for answers and deliveries still due. */
const drainMs = Number(process.env.DRAIN_MS ?? 10_000);
const serverPids = pidsFromEnv('SERVER_PIDS');
const framePids = process.env.FRAME_PIDS ? pidsFromEnv('FRAME_PIDS') : serverPids;

// The receiving side is kept cheap so that the figures are the server's: lean clients (bench/lean-ws-client.ts),
// events numbered 1…total (0: the warm-up) and found in a frame by a byte scan, and per-event bookkeeping in typed
// arrays indexed by that number (no strings, maps or growing arrays per delivery).
const total = Math.round((ratePerSec * durationMs) / 1000);
const idPrefix = `GROUP_AT_MESSAGE_CREATE:fanout${process.pid}n`;
const needle = idNeedle(idPrefix);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
/** performance.now() when event n's POST went out (0: not yet). */
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

function onFrame(buf: Buffer, start: number, end: number, receivedAtMs: number): void {
  const n = eventNumberIn(buf, start, end, needle);
  if (n < 0 || n > total) return;
  if (n === 0) {
    warm++;
    return;
  }
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

// Warm-up: one event to every client, so every bot subscription and every client is live before timing.
const warmStatus = await postSignedEvent(target, agent, secret, `${idPrefix}0`, () => undefined);
const warmDeadline = Date.now() + 30_000;
while (warmStatus === 200 && warm < clientCount && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 20));

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

let seq = 0;
function postOne(): void {
  const n = ++seq;
  let startMs = 0;
  postSignedEvent(target, agent, secret, `${idPrefix}${n}`, () => {
    startMs = performance.now();
    sentAtMs[n] = startMs;
  }).then(
    (status) => {
      if (status === 200) {
        acked++;
        ackedFlags[n] = 1;
        ackMs[ackCount++] = performance.now() - startMs;
      } else failed++;
    },
    () => failed++,
  );
}

const ownCpuAtStart = process.cpuUsage();
const cpuAtStart = cpuSecOf(serverPids);
const frameCpuAtStart = cpuSecOf(framePids);
const frameSplitAtStart = splitOf(framePids);
const frameWritesAtStart = writeCallsOf(framePids);
// A fixed schedule: event k is due at start + k/rate, whatever happened to the ones before it.
const startedMs = performance.now();
let posted = 0;
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - startedMs) / 1000) * ratePerSec));
    while (posted < due) {
      postOne();
      posted++;
    }
    if (posted >= total) {
      clearInterval(tick);
      resolve();
    }
  }, 2);
});

const deadline = Date.now() + drainMs;
while ((delivered < acked * clientCount || acked + failed < total) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
}
const ownCpu = process.cpuUsage(ownCpuAtStart);
const windowMs = performance.now() - startedMs;
const serverCpuSec = cpuSecOf(serverPids) - cpuAtStart;
const frameCpuSec = cpuSecOf(framePids) - frameCpuAtStart;
const frameSplit = splitOf(framePids).map((sec, i) => sec - frameSplitAtStart[i]!);
const frameWrites = writeCallsOf(framePids) - frameWritesAtStart;
const rssMiB = Number((rssBytesOf(serverPids) / 2 ** 20).toFixed(1));
const closing = Promise.all(clients.map((ws) => ws.close()));
agent.destroy();

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
    warmedUp: warm === clientCount,
    posted: total,
    acked,
    failed,
    unanswered: total - acked - failed,
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
    /** The load generator's own CPU µs per delivery received (its cost, whatever the servers' speed). */
    generatorCpuUsPerFrame: delivered > 0 ? Number(((ownCpu.user + ownCpu.system) / delivered).toFixed(2)) : NaN,
  })}\n`,
);
await closing;
