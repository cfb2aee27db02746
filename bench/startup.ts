/**
 * Start-up time and idle memory of one Hookway command (docs/benchmarks.md, issue 9):
 *   node --import tsx bench/startup.ts 5 -- node dist/hookway.mjs
 *   node --import tsx bench/startup.ts 5 -- node --import tsx apps/relay/src/main.ts
 * Each run: spawn, time until the first 200 on /healthz, wait 2 s idle, read VmRSS (Linux /proc), SIGTERM.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { freePort } from '@hookway/testkit';

const separator = process.argv.indexOf('--');
const runs = Number(process.argv[2] ?? 5);
const [command, ...args] = process.argv.slice(separator + 1);
if (separator < 0 || command === undefined) throw new Error('usage: bench/startup.ts <runs> -- <command…>');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const startups: number[] = [];
const rss: number[] = [];
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
  rss.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024);
  child.kill('SIGTERM');
  await once(child, 'exit');
}
process.stdout.write(
  `${[command, ...args].join(' ')}: first /healthz after ${median(startups).toFixed(0)} ms median ` +
    `(${startups.map((ms) => ms.toFixed(0)).join(', ')}), idle RSS ${median(rss).toFixed(1)} MiB median\n`,
);
