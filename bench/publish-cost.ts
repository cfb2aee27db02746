/**
 * The Redis bus's publish path alone, without HTTP, verification or a gateway: CPU µs per event in this process
 * (the ingress's side: building the script call, ioredis, the reply) and in Redis (the publish script), for a bot's
 * events published BATCH at a time in one turn of the event loop, as the split ingress sends them under load.
 * CPU time, not throughput, so a busy machine shifts it far less than the end-to-end figures.
 *
 *   taskset -c 0 node --expose-gc --import tsx bench/publish-cost.ts
 *
 * Redis (a fresh redis-server on a free port) runs on core 1, this process where it was started. Settings: EVENTS
 * (40 000), BATCH (12), BODY_BYTES (700), ROUNDS (4; each prints a line, then the medians), WINDOW_MS (5 000: the dedup window and history age), COMMANDSTATS=1 (Redis's
 * time per command). VARIANT=<module> (exporting PUBLISH_LUA, with the same reply) alternates rounds between this
 * checkout's publish script and that one, in the same minutes, and prints the medians of each.
 * COMPARE_AUTO_PIPELINING=1 alternates instead between this checkout's connection and the same with ioredis's
 * auto-pipelining on (as it was before the seventeenth pass; docs/benchmarks.md).
 */
import { execFileSync, spawn } from 'node:child_process';
import { RedisEventLog } from '../packages/bus/src/index.ts';
import { AppSecret } from '../packages/protocol/src/secret.ts';
import { RedisConnection } from '../packages/redis/src/connection.ts';
import { freePort } from './processes.ts';

const EVENTS = Number(process.env.EVENTS ?? 40_000);
const BATCH = Number(process.env.BATCH ?? 12);
const BODY_BYTES = Number(process.env.BODY_BYTES ?? 700);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
/** The dedup window and history age: short, so ids expire during the run as in a steady state (keys do not pile up). */
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 5_000);

const port = await freePort();
const redis = spawn(
  'taskset',
  ['-c', '1', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: 'ignore',
  },
);
const redisCli = (...args: string[]) =>
  execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
for (let i = 0; ; i++) {
  try {
    if (redisCli('ping').trim() === 'PONG') break;
  } catch {
    if (i > 200) throw new Error('redis-server did not start');
  }
  await new Promise((r) => setTimeout(r, 25));
}

/** Time Redis spent running EVALSHA (the publish script with the commands it calls), in µs, from INFO commandstats. */
function scriptMicros(): number {
  return Number(/^cmdstat_evalsha:calls=\d+,usec=(\d+)/m.exec(redisCli('info', 'commandstats'))?.[1] ?? 0);
}

/** Redis's own CPU (user + sys) in µs, from INFO. */
function redisCpuMicros(): number {
  const info = redisCli('info', 'cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

const connection = new RedisConnection({ url: `redis://127.0.0.1:${port}` });
if (connection.client.status !== 'ready') await new Promise((resolve) => connection.client.once('ready', resolve));
const log = new RedisEventLog({
  connection,
  historyMaxEvents: 10_000,
  historyMaxAgeMs: WINDOW_MS,
  historyMaxBytes: 64 * 1024 * 1024,
  dedupWindowMs: WINDOW_MS,
});
// A run that fails part-way must not leave its redis-server behind.
process.on('exit', () => redis.kill());
const client = connection.client as unknown as Record<string, unknown> & { defineCommand(name: string, d: { lua: string }): void };
const options = connection.client.options as { enableAutoPipelining: boolean };
const scripts: [string, unknown, boolean][] = [['this checkout', client.hwPublish, options.enableAutoPipelining]];
if (process.env.COMPARE_AUTO_PIPELINING === '1') {
  scripts.push(['this checkout, auto-pipelined', client.hwPublish, true]);
} else if (process.env.VARIANT) {
  const { PUBLISH_LUA } = (await import(process.env.VARIANT)) as { PUBLISH_LUA: string };
  client.defineCommand('hwPublishVariant', { lua: PUBLISH_LUA });
  scripts.push([process.env.VARIANT, client.hwPublishVariant, options.enableAutoPipelining]);
}
const bot = AppSecret.of('BenchSecret0123456789');
const filler = 'x'.repeat(Math.max(0, BODY_BYTES - 120));
let next = 0;
const event = () => {
  const id = `GROUP_AT_MESSAGE_CREATE:bench-${process.pid}-${next++}`;
  return { eventId: id, body: Buffer.from(JSON.stringify({ op: 0, id, t: 'GROUP_AT_MESSAGE_CREATE', d: { content: filler } })) };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const nodeFigures: number[][] = scripts.map(() => []);
const redisFigures: number[][] = scripts.map(() => []);
const scriptFigures: number[][] = scripts.map(() => []);
// Every round's events are laid out first, and the heap collected before each round (run with --expose-gc), so that
// no round pays for another's garbage; with a variant the order is A B B A …, so a drift over the run cancels out.
const rounds = ROUNDS * scripts.length;
const work = Array.from({ length: rounds + 1 }, (_, round) =>
  Array.from({ length: Math.ceil((round === 0 ? Math.min(EVENTS, 10_000) : EVENTS) / BATCH) }, () => Array.from({ length: BATCH }, event)),
);
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
for (let round = 0; round <= rounds; round++) {
  const which = round === 0 || scripts.length === 1 ? 0 : [0, 1, 1, 0][(round - 1) % 4]!;
  client.hwPublish = scripts[which]![1];
  options.enableAutoPipelining = scripts[which]![2];
  const batches = work[round]!;
  work[round] = [];
  collect();
  const redisBefore = redisCpuMicros();
  const scriptBefore = scriptMicros();
  const before = process.cpuUsage();
  for (const batch of batches) {
    const results = await Promise.all(batch.map((e) => log.publish(bot, e)));
    if (results.some((r) => r.status !== 'accepted')) throw new Error('an event was not accepted');
  }
  const used = process.cpuUsage(before);
  const redisUs = (redisCpuMicros() - redisBefore) / (batches.length * BATCH);
  const nodeUs = (used.user + used.system) / (batches.length * BATCH);
  const scriptUs = (scriptMicros() - scriptBefore) / (batches.length * BATCH);
  if (round === 0) continue;
  nodeFigures[which]!.push(nodeUs);
  redisFigures[which]!.push(redisUs);
  scriptFigures[which]!.push(scriptUs);
  process.stdout.write(
    `round ${round} (${scripts[which]![0]}): this process ${nodeUs.toFixed(2)} µs/event, redis ${redisUs.toFixed(2)} µs/event (the script ${scriptUs.toFixed(2)})\n`,
  );
}
scripts.forEach(([name], i) =>
  process.stdout.write(
    `${name}: median of ${ROUNDS} (${EVENTS} events, batches of ${BATCH}, ${BODY_BYTES}-byte bodies): this process ${median(nodeFigures[i]!).toFixed(2)} µs/event, redis ${median(redisFigures[i]!).toFixed(2)} µs/event (the script ${median(scriptFigures[i]!).toFixed(2)})\n`,
  ),
);
if (process.env.COMMANDSTATS === '1') {
  // Where Redis's time goes, per event over every round: each command's total µs (a script's includes its commands).
  const events = ROUNDS * scripts.length * EVENTS + Math.min(EVENTS, 10_000);
  for (const line of redisCli('info', 'commandstats').split('\n')) {
    const m = /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m)
      process.stdout.write(
        `  ${m[1]}: ${(Number(m[2]) / events).toFixed(3)} calls/event, ${(Number(m[3]) / events).toFixed(2)} µs/event\n`,
      );
  }
}
await log.close();
await connection.close();
redis.kill();
