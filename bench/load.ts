/**
 * Load generator for S1: one raw WebSocket client, signed ~600-byte GROUP_AT_MESSAGE_CREATE webhooks posted
 * with a fixed number in flight. Prints one JSON line: throughput and webhook→client latency.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { postSignedEvent } from './post.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
/** Where the client connects: the same server, or a separate gateway in split mode. */
const wsTarget = new URL(process.env.WS_TARGET ?? target.href);
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const durationMs = Number(process.env.DURATION_MS ?? 10_000);
const warmupMs = Number(process.env.WARMUP_MS ?? 1_000);
const inFlight = Number(process.env.IN_FLIGHT ?? 32);

const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
/** Per in-flight event: when it was posted, and whether it belongs to the measured window (not warm-up). */
const sent = new Map<string, { atNs: bigint; measured: boolean }>();
const latenciesMs: number[] = [];
let acked = 0;
let failed = 0;
let delivered = 0;
let measuring = false;
let stop = false;

const ws = new WebSocket(`ws://${wsTarget.host}/ws?secret=${secret}`, { perMessageDeflate: false });
await new Promise<void>((resolve, reject) => {
  ws.once('open', () => resolve());
  ws.once('error', reject);
});
ws.on('message', (data) => {
  const text = data.toString();
  const start = text.indexOf('"id":"') + 6;
  const id = text.slice(start, text.indexOf('"', start));
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

setTimeout(() => (measuring = true), warmupMs);
const startedAt = Date.now();
setTimeout(() => (stop = true), warmupMs + durationMs);
await Promise.all(Array.from({ length: inFlight }, worker));
const measuredMs = Date.now() - startedAt - warmupMs;

// Let the last frames arrive.
const deadline = Date.now() + 3000;
while (delivered < acked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
ws.close();
agent.destroy();

latenciesMs.sort((a, b) => a - b);
const pct = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    acked,
    delivered,
    failed,
    measuredMs,
    eventsPerSec: Math.round((delivered / measuredMs) * 1000),
    p50Ms: Number(pct(50).toFixed(2)),
    p99Ms: Number(pct(99).toFixed(2)),
  })}\n`,
);
