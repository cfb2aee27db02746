/**
 * The load half of bench/memory-after-load.ts: one raw client, then EVENTS (25 000) signed webhooks to one bot, IN_FLIGHT
 * (32) at a time (closed loop: the same count whatever the machine's speed), until every one is acknowledged and
 * delivered (or DRAIN_MS, 20 000, after the last answer). Prints one JSON line: total, acked, failed, delivered.
 */
import { Agent } from 'node:http';
import { connectLean } from './lean-ws-client.ts';
import { postSignedEvent } from './post.ts';
import { eventNumberIn, idNeedle } from './proc-stats.ts';

const target = new URL(process.env.TARGET!);
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const total = Number(process.env.EVENTS ?? 25_000);
const inFlight = Number(process.env.IN_FLIGHT ?? 32);
const drainMs = Number(process.env.DRAIN_MS ?? 20_000);
const idPrefix = `GROUP_AT_MESSAGE_CREATE:mem${process.pid}n`;
const needle = idNeedle(idPrefix);
const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
/** 1 once event n arrived (each counts once). */
const arrived = new Uint8Array(total + 1);
let delivered = 0;
let acked = 0;
let failed = 0;
let allArrived: () => void = () => undefined;
const everyEventArrived = new Promise<void>((resolve) => (allArrived = resolve));
const ws = await connectLean(new URL(`ws://${target.host}/ws?secret=${secret}`), (buf, start, end) => {
  const n = eventNumberIn(buf, start, end, needle);
  if (n < 1 || n > total || arrived[n]) return;
  arrived[n] = 1;
  if (++delivered === total) allArrived();
});

let posted = 0;
await new Promise<void>((resolve) => {
  const postNext = (): void => {
    if (posted >= total) return;
    const n = ++posted;
    // postSignedEvent never rejects (a failed request resolves with 0).
    postSignedEvent(target, agent, secret, `${idPrefix}${n}`, () => undefined)
      .then((status) => {
        if (status === 200) acked++;
        else failed++;
        if (acked + failed === total) resolve();
        else postNext();
      })
      .catch(() => undefined);
  };
  for (let i = 0; i < inFlight; i++) postNext();
});
let drainTimer: NodeJS.Timeout | undefined;
await Promise.race([everyEventArrived, new Promise((resolve) => (drainTimer = setTimeout(resolve, drainMs)))]);
clearTimeout(drainTimer);
await ws.close();
agent.destroy();
process.stdout.write(`${JSON.stringify({ total, acked, failed, delivered })}\n`);
