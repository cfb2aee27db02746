/**
 * Scale load generator: BOTS bots (raw mode: any secret is a bot), one raw client per bot, the clients spread over
 * the gateways in WS_TARGETS; signed events posted round-robin over the bots at a fixed total RATE per second (open
 * loop) for DURATION_MS, after one warm-up event per bot has reached its client (so every subscription is live).
 * Reads the Redis nodes' counters (REDIS_PORTS) around the measured window. Prints one JSON line.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { postSignedEvent } from './post.ts';
import { delta, readAll } from './redis-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
const wsTargets = (process.env.WS_TARGETS ?? target.href).split(',').map((u) => new URL(u));
const botCount = Number(process.env.BOTS ?? 1000);
const ratePerSec = Number(process.env.RATE ?? 500);
const durationMs = Number(process.env.DURATION_MS ?? 20_000);
const redisPorts = (process.env.REDIS_PORTS ?? '').split(',').filter(Boolean).map(Number);
// Secrets of the AppSecret shape (6–128 of A-Z a-z 0-9 . _ ~ -), distinct per bot and per run.
const secrets = Array.from({ length: botCount }, (_, i) => `ScaleBot${process.pid}x${String(i).padStart(6, '0')}`);

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const sentAtNs = new Map<string, bigint>();
const latenciesMs: number[] = [];
let delivered = 0;
let duplicates = 0;
let acked = 0;
let failed = 0;
let lastDeliveryMs = 0;

const idOf = (text: string) => {
  const start = text.indexOf('"id":"') + 6;
  return text.slice(start, text.indexOf('"', start));
};

// Bot i's client goes to gateway i mod n; opened a batch at a time so the gateways' accept queues stay short.
const clients: WebSocket[] = [];
for (let from = 0; from < botCount; from += 100) {
  const batch = secrets.slice(from, from + 100).map((secret, j) => {
    const host = wsTargets[(from + j) % wsTargets.length]!.host;
    const ws = new WebSocket(`ws://${host}/ws?secret=${secret}`, { perMessageDeflate: false });
    ws.on('message', (data) => {
      const id = idOf(data.toString());
      const sent = sentAtNs.get(id);
      if (sent === undefined) return;
      if (sent < 0n) {
        duplicates++;
        return;
      }
      sentAtNs.set(id, -1n);
      delivered++;
      lastDeliveryMs = performance.now();
      latenciesMs.push(Number(process.hrtime.bigint() - sent) / 1e6);
    });
    return new Promise<WebSocket>((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  });
  clients.push(...(await Promise.all(batch)));
}

let seq = 0;
function postOne(secret: string, kind: string): void {
  const id = `GROUP_AT_MESSAGE_CREATE:${kind}${process.pid}n${++seq}`;
  postSignedEvent(target, agent, secret, id, () => sentAtNs.set(id, process.hrtime.bigint())).then(
    (status) => {
      if (status === 200) acked++;
      else failed++;
    },
    () => failed++,
  );
}

/** Posts `total` events on a fixed schedule (event k due at start + k/rate), event k to bot k mod BOTS. */
async function schedule(total: number, kind: string): Promise<void> {
  const startedMs = performance.now();
  let posted = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - startedMs) / 1000) * ratePerSec));
      while (posted < due) postOne(secrets[posted++ % botCount]!, kind);
      if (posted >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
}

/** Until every posted event is answered and every acknowledged one delivered, or `graceMs` without progress. */
async function drain(total: number, graceMs: number): Promise<void> {
  let seen = -1;
  let stalledSince = Date.now();
  while (delivered < acked || acked + failed < total) {
    if (delivered + acked + failed !== seen) {
      seen = delivered + acked + failed;
      stalledSince = Date.now();
    } else if (Date.now() - stalledSince > graceMs) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const reset = () => {
  delivered = acked = failed = duplicates = 0;
  latenciesMs.length = 0;
  sentAtNs.clear();
};

await schedule(botCount, 'warm');
await drain(botCount, 10_000);
const warmup = { posted: botCount, acked, delivered, failed };
reset();

const total = Math.round((ratePerSec * durationMs) / 1000);
const before = await readAll(redisPorts);
const startedMs = performance.now();
await schedule(total, 'scale');
await drain(total, 5000);
const measuredMs = Math.max(lastDeliveryMs, startedMs + 1) - startedMs;
const nodes = delta(before, await readAll(redisPorts));

for (const ws of clients) ws.close();
agent.destroy();

latenciesMs.sort((a, b) => a - b);
const pct = (p: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor((p / 100) * latenciesMs.length))] ?? NaN;
const cpuSec = nodes.reduce((sum, n) => sum + n.cpuSec, 0);
process.stdout.write(
  `${JSON.stringify({
    bots: botCount,
    gateways: wsTargets.length,
    ratePerSec,
    warmup,
    posted: total,
    acked,
    failed,
    delivered,
    duplicates,
    measuredMs: Math.round(measuredMs),
    eventsPerSec: Number(((delivered * 1000) / measuredMs).toFixed(1)),
    p50Ms: Number(pct(50).toFixed(2)),
    p99Ms: Number(pct(99).toFixed(2)),
    maxMs: Number(pct(100).toFixed(2)),
    redisCpuSec: Number(cpuSec.toFixed(3)),
    redisCpuUsPerEvent: acked > 0 ? Number(((cpuSec * 1e6) / acked).toFixed(1)) : NaN,
    nodes,
  })}\n`,
);
