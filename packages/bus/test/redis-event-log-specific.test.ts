import { afterEach, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, until, type RedisServer } from '@hookway/testkit';
import { AppSecret } from '@hookway/protocol';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys } from '@hookway/redis';
import { RedisEventLog, decodeChannelMessage, type BusEvent, type HistoryLimits } from '../src/index.ts';

const limits: HistoryLimits = { historyMaxEvents: 1000, historyMaxAgeMs: 60_000, historyMaxBytes: 1 << 20, dedupWindowMs: 60_000 };
let n = 0;
const freshBot = () => AppSecret.of(`redisSpecific${process.pid}x${Date.now().toString(36)}x${++n}`);

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
async function bus(url = inject('redisUrl'), extra: { commandTimeoutMs?: number; subscriberProbeIntervalMs?: number } = {}) {
  const { commandTimeoutMs, ...logOptions } = extra;
  const connection = new RedisConnection({ url, ...(commandTimeoutMs ? { commandTimeoutMs } : {}) });
  const b = new RedisEventLog({ connection, ...limits, ...logOptions });
  cleanup.push(() => connection.close());
  cleanup.push(() => b.close());
  expect(await connection.whenReady()).toBe(true);
  return b;
}
async function raw(url = inject('redisUrl')) {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  cleanup.push(async () => r.disconnect());
  return r;
}

/** A log, a fresh bot, and what a plain Redis client subscribed to the bot's channel hears there. */
async function busWithListener() {
  const b = await bus();
  const bot = freshBot();
  const listener = await raw();
  const got: Buffer[] = [];
  listener.on('messageBuffer', (_channel: Buffer, message: Buffer) => got.push(message));
  await listener.subscribe(`qq:${bot.reveal()}`);
  return { b, bot, got };
}

describe('RedisEventLog on the wire', () => {
  it('publishes `<header JSON>\\n<raw body>` on qq:<secret>, readable by any Redis client', async () => {
    const { b, bot, got } = await busWithListener();
    const body = '{"op":0,"id":"X:1","d":{"content":"你好 \\n 世界"},"t":"C2C_MESSAGE_CREATE"}';
    const result = await b.publish(bot, { eventId: 'X:1', body: Buffer.from(body) });
    await until(() => got.length === 1, 'the channel message');
    const message = got[0]!;
    const newline = message.indexOf(10);
    const header = JSON.parse(message.subarray(0, newline).toString());
    expect(header).toEqual({ v: 1, epoch: result.status === 'accepted' ? result.position.epoch : '?', seq: 1, id: 'X:1' });
    expect(message.subarray(newline + 1).toString()).toBe(body);
  });

  it.each([
    ['a plain id', 'GROUP_AT_MESSAGE_CREATE:abc-123'],
    ['quotes and a backslash', 'a"b\\c"'],
    ['control characters', 'line\nbreak\ttab\u0000nul\u007fdel'],
    ['a slash, Chinese and an emoji', 'a/b:你好🙂'],
    ['JSON-looking text', '","seq":999,"x":"'],
  ])('announces an id as the gateway must read it back: %s', async (_name, eventId) => {
    const { b, bot, got } = await busWithListener();
    const result = await b.publish(bot, { eventId, body: Buffer.from('{"op":0}') });
    await b.publish(bot, { body: Buffer.from('{"op":0,"n":2}') });
    await until(() => got.length === 2, 'both channel messages');
    const epoch = result.status === 'accepted' ? result.position.epoch : '?';
    const headers = got.map((m) => JSON.parse(m.subarray(0, m.indexOf(10)).toString()) as unknown);
    expect(headers).toEqual([
      { v: 1, epoch, seq: 1, id: eventId },
      { v: 1, epoch, seq: 2 },
    ]);
    expect(decodeChannelMessage(got[0]!)?.eventId).toBe(eventId);
  });

  it('keeps every key of a bot in one hash slot and names them as documented', async () => {
    const b = await bus();
    const bot = freshBot();
    await b.publish(bot, { eventId: 'k1', body: Buffer.from('{}') });
    const r = await raw();
    const keys = (await r.keys(`qq:{${bot.reveal()}}:*`)).sort();
    expect(keys).toEqual([redisKeys.eventId(bot, 'k1'), redisKeys.meta(bot), redisKeys.stream(bot)].sort());
    expect(await r.hgetall(redisKeys.meta(bot))).toMatchObject({ seq: '1', dseq: '0', bytes: '2' });
    expect(await r.pttl(redisKeys.stream(bot))).toBeGreaterThan(50_000);
  });

  it('counts retained bytes afresh when the stream expired while meta lived on, and keeps numbering', async () => {
    const b = await bus();
    const bot = freshBot();
    await b.publish(bot, { eventId: 'e1', body: Buffer.from('{"a":1}') });
    await b.publish(bot, { eventId: 'e2', body: Buffer.from('{"b":22}') });
    const r = await raw();
    expect(await r.hget(redisKeys.meta(bot), 'bytes')).toBe('15');
    await r.del(redisKeys.stream(bot)); // what the stream's expiry (HISTORY_MAX_AGE_SEC) does to an idle bot
    const third = await b.publish(bot, { eventId: 'e3', body: Buffer.from('{"c":333}') });
    expect(third.status === 'accepted' && third.position.seq).toBe(3);
    expect(await r.hmget(redisKeys.meta(bot), 'seq', 'bytes')).toEqual(['3', '9']);
    expect((await b.history(bot)).events.map((e) => e.seq)).toEqual([3]);
  });

  it('drops foreign or malformed messages on a bot channel, counts them, and keeps delivering', async () => {
    const b = await bus();
    const bot = freshBot();
    const got: BusEvent[] = [];
    await b.subscribe(bot, (e) => got.push(e));
    const r = await raw();
    for (const junk of ['no header', '{"v":2}\n{}', '{"v":1,"epoch":"e","seq":"1"}\nx', '\n', 'null\n{}']) {
      await r.publish(`qq:${bot.reveal()}`, junk);
    }
    await b.publish(bot, { eventId: 'ok', body: Buffer.from('{"ok":true}') });
    await until(() => got.length === 1, 'the good event');
    expect(got[0]!.body.toString()).toBe('{"ok":true}');
    expect(b.stats().redisMalformedMessages).toBe(5);
  });

  it('starts a new epoch when the bot’s keys vanish (a Redis that restarted empty)', async () => {
    const b = await bus();
    const bot = freshBot();
    await b.publish(bot, { eventId: 'a', body: Buffer.from('a') });
    await b.publish(bot, { eventId: 'b', body: Buffer.from('b') });
    const before = await b.head(bot);
    const r = await raw();
    await r.del(redisKeys.meta(bot), redisKeys.stream(bot), redisKeys.eventId(bot, 'a'), redisKeys.eventId(bot, 'b'));
    const again = await b.publish(bot, { eventId: 'a', body: Buffer.from('a again') });
    expect(again).toMatchObject({ status: 'accepted', position: { seq: 1 } });
    const after = await b.head(bot);
    expect(after.epoch).not.toBe(before.epoch);
    const slice = await b.history(bot, before);
    expect(slice.complete).toBe(false);
    expect(slice.events.map((e) => e.body.toString())).toEqual(['a again']);
  });
});

describe('RedisEventLog: a bot’s events published in one turn share one script call', () => {
  /** Script calls a Redis served so far (its own server: other test files share the common one). */
  const scriptCalls = async (r: Redis) => {
    const stats = await r.info('commandstats');
    return ['evalsha', 'eval'].reduce((sum, cmd) => sum + Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
  };

  it('stores and announces them in order, as if each had been published alone', async () => {
    const server = await startRedisServer();
    cleanup.push(() => server.dispose());
    const b = await bus(server.url);
    const bot = freshBot();
    const r = await raw(server.url);
    const live: string[] = [];
    await b.subscribe(bot, (e) => live.push(`${e.seq}:${e.body.toString()}`));
    await b.publish(bot, { eventId: 'warm', body: Buffer.from('{"w":0}') });
    const before = await scriptCalls(r);
    const bodies = Array.from({ length: 10 }, (_, i) => `{"n":${i}}`);
    const results = await Promise.all(bodies.map((body, i) => b.publish(bot, { eventId: `b${i}`, body: Buffer.from(body) })));
    expect((await scriptCalls(r)) - before).toBe(1);
    expect(results.map((x) => x.status === 'accepted' && x.position.seq)).toEqual(bodies.map((_, i) => i + 2));
    await until(() => live.length === 11, 'every event live');
    expect(live.slice(1)).toEqual(bodies.map((body, i) => `${i + 2}:${body}`));
    expect((await b.history(bot)).events.map((e) => e.body.toString())).toEqual(['{"w":0}', ...bodies]);
    expect(await r.hmget(redisKeys.meta(bot), 'seq', 'bytes')).toEqual(['11', String(7 + bodies.join('').length)]);
  });

  it('takes a retry that arrives in the same turn as its original for a duplicate', async () => {
    const b = await bus();
    const bot = freshBot();
    const results = await Promise.all([
      b.publish(bot, { eventId: 'same', body: Buffer.from('{"a":1}') }),
      b.publish(bot, { eventId: 'other', body: Buffer.from('{"b":2}') }),
      b.publish(bot, { eventId: 'same', body: Buffer.from('{"a":1}') }),
    ]);
    expect(results.map((x) => x.status)).toEqual(['accepted', 'accepted', 'duplicate']);
    expect((await b.history(bot)).events.map((e) => [e.seq, e.eventId])).toEqual([
      [1, 'same'],
      [2, 'other'],
    ]);
  });

  it('trims once for the whole call: a batch past the count limit keeps the newest, announces all', async () => {
    const connection = new RedisConnection({ url: inject('redisUrl') });
    const b = new RedisEventLog({ connection, ...limits, historyMaxEvents: 3 });
    cleanup.push(() => connection.close());
    cleanup.push(() => b.close());
    expect(await connection.whenReady()).toBe(true);
    const bot = freshBot();
    const live: number[] = [];
    await b.subscribe(bot, (e) => live.push(e.seq));
    await Promise.all(Array.from({ length: 5 }, (_, i) => b.publish(bot, { body: Buffer.from(`{"n":${i}}`) })));
    await until(() => live.length === 5, 'every event live');
    expect(live).toEqual([1, 2, 3, 4, 5]);
    expect((await b.history(bot)).events.map((e) => e.seq)).toEqual([3, 4, 5]);
    const r = await raw();
    expect(await r.hmget(redisKeys.meta(bot), 'seq', 'bytes')).toEqual(['5', '21']);
  });

  it('keeps bots apart: each bot’s events in its own call, numbered on their own', async () => {
    const b = await bus();
    const [one, two] = [freshBot(), freshBot()];
    const results = await Promise.all(
      [one, two, one, two].map((bot, i) => b.publish(bot, { eventId: `x${i}`, body: Buffer.from(`{"i":${i}}`) })),
    );
    expect(results.map((x) => x.status === 'accepted' && x.position.seq)).toEqual([1, 1, 2, 2]);
    expect((await b.history(two)).events.map((e) => e.eventId)).toEqual(['x1', 'x3']);
  });
});

describe('RedisEventLog through an outage', () => {
  let server: RedisServer;
  afterEach(async () => server?.dispose());

  it('fails fast while Redis is down, reports why, and recovers by itself', async () => {
    server = await startRedisServer();
    const b = await bus(server.url, { commandTimeoutMs: 1000 });
    const bot = freshBot();
    await b.publish(bot, { eventId: 'before', body: Buffer.from('1') });
    await server.kill();
    await until(() => !b.isReady(), 'the bus to notice');
    expect(b.notReadyReason()).toMatch(/redis/);
    const started = Date.now();
    await expect(b.publish(bot, { eventId: 'during', body: Buffer.from('2') })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1500);
    await server.restart();
    await until(() => b.isReady(), 'the bus to reconnect');
    expect((await b.publish(bot, { eventId: 'after', body: Buffer.from('3') })).status).toBe('accepted');
  });

  it('asks subscribers to resync when the subscriber connection was cut, and the gap is in the history', async () => {
    server = await startRedisServer();
    const b = await bus(server.url);
    const bot = freshBot();
    const live: number[] = [];
    let resyncs = 0;
    await b.subscribe(bot, (e) => live.push(e.seq), { onResync: () => resyncs++ });
    await b.publish(bot, { eventId: 'e1', body: Buffer.from('1') });
    await until(() => live.length === 1, 'the first live event');
    const r = await raw(server.url);
    await r.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let i = 2; i <= 5; i++) await b.publish(bot, { eventId: `e${i}`, body: Buffer.from(String(i)) });
    await until(() => resyncs >= 1, 'a resync request');
    const head = await b.head(bot);
    const missed = await b.history(bot, { epoch: head.epoch, seq: Math.max(...live) });
    expect(missed.complete).toBe(true);
    expect([...live, ...missed.events.map((e) => e.seq)].filter((s, i, all) => all.indexOf(s) === i).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(b.stats().redisResyncs).toBeGreaterThanOrEqual(1);
  });

  it('reconnects a subscriber that stops hearing its probes (half-dead connection)', async () => {
    server = await startRedisServer();
    const b = await bus(server.url, { subscriberProbeIntervalMs: 500 });
    let resyncs = 0;
    await b.subscribe(freshBot(), () => {}, { onResync: () => resyncs++ });
    // Redis holds every write (PUBLISH included): the probe is not heard back within an interval, exactly what a
    // half-dead subscriber connection looks like from here. Noticing takes up to two intervals; the pause is far
    // longer, so that it cannot end first on a loaded machine (the server is killed after the test anyway).
    const r = await raw(server.url);
    await r.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    await until(() => b.stats().redisProbeFailures >= 1, 'a failed probe');
    await until(() => resyncs >= 1, 'the resync after reconnecting');
  });
});
