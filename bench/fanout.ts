/**
 * Fan-out load generator: one bot, CLIENTS raw clients spread over the gateways in WS_TARGETS, signed events
 * posted at a fixed RATE per second (open loop, so latency includes any queueing) for DURATION_MS.
 * Prints one JSON line: deliveries expected and made, and webhook→client latency percentiles over all deliveries.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { postSignedEvent } from './post.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
const wsTargets = (process.env.WS_TARGETS ?? target.href).split(',').map((u) => new URL(u));
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const clientCount = Number(process.env.CLIENTS ?? 200);
const ratePerSec = Number(process.env.RATE ?? 500);
const durationMs = Number(process.env.DURATION_MS ?? 10_000);

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const sentAtNs = new Map<string, bigint>();
const latenciesMs: number[] = [];
let delivered = 0;
let acked = 0;
let failed = 0;

const clients = await Promise.all(
  Array.from({ length: clientCount }, (_, i) => {
    const host = wsTargets[i % wsTargets.length]!.host;
    const ws = new WebSocket(`ws://${host}/ws?secret=${secret}`, { perMessageDeflate: false });
    ws.on('message', (data) => {
      const text = data.toString();
      const start = text.indexOf('"id":"') + 6;
      const sent = sentAtNs.get(text.slice(start, text.indexOf('"', start)));
      if (sent === undefined) return;
      delivered++;
      latenciesMs.push(Number(process.hrtime.bigint() - sent) / 1e6);
    });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }),
);

let seq = 0;
function postOne(): void {
  const id = `GROUP_AT_MESSAGE_CREATE:fanout${process.pid}n${++seq}`;
  postSignedEvent(target, agent, secret, id, () => sentAtNs.set(id, process.hrtime.bigint())).then(
    (status) => {
      if (status === 200) acked++;
      else failed++;
    },
    () => failed++,
  );
}

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

const expected = total * clientCount;
const deadline = Date.now() + 5000;
while ((delivered < acked * clientCount || acked + failed < total) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
}
for (const ws of clients) ws.close();
agent.destroy();

latenciesMs.sort((a, b) => a - b);
const pct = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    clients: clientCount,
    ratePerSec,
    posted: total,
    acked,
    failed,
    expectedDeliveries: expected,
    delivered,
    p50Ms: Number(pct(50).toFixed(2)),
    p99Ms: Number(pct(99).toFixed(2)),
    maxMs: Number(pct(100).toFixed(2)),
  })}\n`,
);
