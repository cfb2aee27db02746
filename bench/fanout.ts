/**
 * Open-loop load generator (fan-out A and B, S1 at a fixed rate, ack latency): one bot, CLIENTS raw clients spread
 * over the servers in WS_TARGETS, signed events posted at a fixed RATE per second for DURATION_MS (open loop:
 * latency includes any queueing). One warm-up event must reach every client first (every subscription live).
 * Reads the server processes' CPU time (SERVER_PIDS; FRAME_PIDS: the ones sending the frames, default the same)
 * and RSS from /proc. Prints one JSON line: deliveries expected and made, webhook→client latency over all
 * deliveries, webhook POST → response (ack) latency, POSTs never answered, CPU per event and per frame.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { postSignedEvent } from './post.ts';
import { cpuSecOf, idOfFrame, percentile, pidsFromEnv, rssBytesOf } from './proc-stats.ts';

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

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const sentAtNs = new Map<string, bigint>();
/** Deliveries per event id (each client must get each acknowledged event once). */
const deliveries = new Map<string, number>();
const latenciesMs: number[] = [];
const ackMs: number[] = [];
let delivered = 0;
/** Ids of the events acknowledged with 200: each must reach every client exactly once. */
const ackedIds = new Set<string>();
let acked = 0;
let failed = 0;
let warm = 0;

function onFrame(data: Buffer): void {
  const id = idOfFrame(data);
  if (id.endsWith('warmup')) {
    warm++;
    return;
  }
  const sent = sentAtNs.get(id);
  if (sent === undefined) return;
  delivered++;
  deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
  latenciesMs.push(Number(process.hrtime.bigint() - sent) / 1e6);
}

// Opened a batch at a time so the servers' accept queues stay short.
const clients: WebSocket[] = [];
for (let from = 0; from < clientCount; from += 100) {
  const batch = Array.from({ length: Math.min(100, clientCount - from) }, (_, j) => {
    const host = wsTargets[(from + j) % wsTargets.length]!.host;
    const ws = new WebSocket(`ws://${host}/ws?secret=${secret}`, { perMessageDeflate: false, skipUTF8Validation: true });
    ws.on('message', onFrame);
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  });
  clients.push(...(await Promise.all(batch)));
}

// Warm-up: one event to every client, so every bot subscription and every client is live before timing.
const warmStatus = await postSignedEvent(target, agent, secret, `GROUP_AT_MESSAGE_CREATE:fanout${process.pid}warmup`, () => undefined);
const warmDeadline = Date.now() + 30_000;
while (warmStatus === 200 && warm < clientCount && Date.now() < warmDeadline) await new Promise((r) => setTimeout(r, 20));

let seq = 0;
function postOne(): void {
  const id = `GROUP_AT_MESSAGE_CREATE:fanout${process.pid}n${++seq}`;
  let startNs = 0n;
  postSignedEvent(target, agent, secret, id, () => {
    startNs = process.hrtime.bigint();
    sentAtNs.set(id, startNs);
  }).then(
    (status) => {
      if (status === 200) {
        acked++;
        ackedIds.add(id);
        ackMs.push(Number(process.hrtime.bigint() - startNs) / 1e6);
      } else failed++;
    },
    () => failed++,
  );
}

const ownCpuAtStart = process.cpuUsage();
const cpuAtStart = cpuSecOf(serverPids);
const frameCpuAtStart = cpuSecOf(framePids);
// A fixed schedule: event k is due at start + k/rate, whatever happened to the ones before it.
const startedMs = performance.now();
const total = Math.round((ratePerSec * durationMs) / 1000);
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
const rssMiB = Number((rssBytesOf(serverPids) / 2 ** 20).toFixed(1));
for (const ws of clients) ws.close();
agent.destroy();

let eventsShort = 0;
let deliveredOfAcked = 0;
for (const id of ackedIds) {
  const n = deliveries.get(id) ?? 0;
  deliveredOfAcked += n;
  if (n !== clientCount) eventsShort++;
}
latenciesMs.sort((a, b) => a - b);
ackMs.sort((a, b) => a - b);
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
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: percentile(latenciesMs, 100),
    ackP50Ms: percentile(ackMs, 50),
    ackP99Ms: percentile(ackMs, 99),
    ackMaxMs: percentile(ackMs, 100),
    serverCpuSec: Number(serverCpuSec.toFixed(2)),
    cpuUsPerEvent: acked > 0 ? Math.round((serverCpuSec * 1e6) / acked) : NaN,
    cpuUsPerFrame: delivered > 0 ? Number(((frameCpuSec * 1e6) / delivered).toFixed(2)) : NaN,
    framesPerCoreSec: frameCpuSec > 0 ? Math.round(delivered / frameCpuSec) : NaN,
    rssMiB,
    /** The load generator's own CPU over the run (% of its one core): near 100, the figures are the generator's. */
    generatorCpuPct: Math.round(((ownCpu.user + ownCpu.system) / 1000 / windowMs) * 100),
  })}\n`,
);
