/**
 * Start-up time and idle memory of one Hookway command (docs/benchmarks.md, issue 9):
 *   node --import tsx bench/startup.ts 5 -- node dist/hookway.mjs
 *   node --import tsx bench/startup.ts 5 -- node --import tsx apps/relay/src/main.ts
 * Each run: spawn, time until the first 200 on /healthz, wait 2 s idle, read VmRSS (Linux /proc); then one raw client
 * and 5,000 signed webhooks at 32 in flight, every one delivered, and read VmRSS and VmHWM (the peak) under that load;
 * SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { freePort, groupAtMessage, WebhookSender } from '@hookway/testkit';

const separator = process.argv.indexOf('--');
const runs = Number(process.argv[2] ?? 5);
const [command, ...args] = process.argv.slice(separator + 1);
if (separator < 0 || command === undefined) throw new Error('usage: bench/startup.ts <runs> -- <command…>');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const startups: number[] = [];
const rss: number[] = [];
const loadedRss: number[] = [];
const peakRss: number[] = [];
const SECRET = 'startupBenchSecret01';
const EVENTS = 5_000;
const IN_FLIGHT = 32;
const memoryMiB = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** One raw client, EVENTS webhooks with IN_FLIGHT outstanding; resolves when the client has every one. */
async function load(port: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?secret=${SECRET}`);
  await once(ws, 'open');
  let received = 0;
  const all = new Promise<void>((resolve) =>
    ws.on('message', () => {
      if (++received === EVENTS) resolve();
    }),
  );
  const sender = new WebhookSender(`http://127.0.0.1:${port}`, SECRET);
  let next = 0;
  const worker = async () => {
    while (next < EVENTS) {
      next++;
      const answer = await sender.dispatch(groupAtMessage());
      if (answer.status !== 200) throw new Error(`webhook answered ${answer.status}`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await all;
  ws.close();
}
for (let i = 0; i < runs; i++) {
  const port = await freePort();
  const startedMs = performance.now();
  const child = spawn(command, args, {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (res?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  startups.push(performance.now() - startedMs);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  rss.push(memoryMiB(child.pid!, 'VmRSS'));
  await load(port);
  loadedRss.push(memoryMiB(child.pid!, 'VmRSS'));
  peakRss.push(memoryMiB(child.pid!, 'VmHWM'));
  child.kill('SIGTERM');
  await once(child, 'exit');
}
process.stdout.write(
  `${[command, ...args].join(' ')}: first /healthz after ${median(startups).toFixed(0)} ms median ` +
    `(${startups.map((ms) => ms.toFixed(0)).join(', ')}), idle RSS ${median(rss).toFixed(1)} MiB, ` +
    `after ${EVENTS} events RSS ${median(loadedRss).toFixed(1)} MiB, peak ${median(peakRss).toFixed(1)} MiB (medians)\n`,
);
