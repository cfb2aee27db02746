import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Redis } from 'ioredis';
import { RedisEventLog, type BusEvent } from '@hookway/bus';
import { AppSecret } from '@hookway/protocol';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys } from '@hookway/redis';
import { startRedisServer, until, type RedisServer } from '@hookway/testkit';
import { BotFeeds } from '../src/shared/bot-feeds.ts';
import type { FeedClient } from '../src/shared/feed-client.ts';
import { lossyBus } from './lossy-bus.ts';

const BOT = AppSecret.of('rollbackBot');

const silent = pino({ level: 'silent' });

let server: RedisServer | undefined;
afterEach(async () => server?.dispose());

/** A Redis server of its own, and an event log on it. */
async function redisLog() {
  server = await startRedisServer();
  const connection = new RedisConnection({ url: server.url });
  const log = new RedisEventLog({
    connection,
    historyMaxEvents: 1000,
    historyMaxAgeMs: 60_000,
    historyMaxBytes: 1 << 20,
    dedupWindowMs: 60_000,
  });
  expect(await connection.whenReady()).toBe(true);
  return { url: server.url, log, close: async () => (await log.close(), await connection.close()) };
}

/** A raw feed client that records the bodies it is handed and how often it is told events were lost. */
function recordingClient() {
  const seen = { got: [] as string[], lost: 0 };
  const client: FeedClient = {
    clientMode: 'raw',
    deliver: (e: BusEvent) => (seen.got.push(e.body.toString()), true),
    lostEvents: () => void seen.lost++,
    fellBehind: () => true,
    hold: () => {},
    release: () => {},
  };
  return { client, seen };
}

describe('BotFeeds over Redis', () => {
  it("delivers a new bot's first events that reached the history but not the subscription, on the resync (no loss)", async () => {
    const { log, close } = await redisLog();
    // Its subscription misses events 1 and 2, as one on a failing shard does; `resync` is what a reconnect calls.
    const bus = lossyBus(log, new Set([1, 2]));
    const feeds = new BotFeeds(bus, silent);
    const { client, seen } = recordingClient();
    const bot = AppSecret.of('newBotNoEventsYet');
    await feeds.join(bot, client);
    expect(await log.head(bot)).toEqual({ epoch: '', seq: 0 }); // the feed started before the bot had a numbering
    for (let i = 1; i <= 2; i++) await log.publish(bot, { eventId: `first${i}`, body: Buffer.from(`first${i}`) });
    bus.resync();
    await log.publish(bot, { eventId: 'third', body: Buffer.from('third') });
    await until(
      () => seen.got.length === 3 || seen.lost > 0,
      () => `3 events or a loss (got ${seen.got.join(',')}, lost ${seen.lost})`,
    );
    expect(seen).toEqual({ got: ['first1', 'first2', 'third'], lost: 0 });
    await feeds.close();
    await close();
  });

  it('notices a numbering that went back (lost last writes) and tells clients instead of skipping new events', async () => {
    const { url, log: bus, close } = await redisLog();
    const raw = new Redis(url);
    raw.on('error', () => {});
    const feeds = new BotFeeds(bus, silent);
    const { client, seen } = recordingClient();
    const { got } = seen;
    await feeds.join(BOT, client);
    for (let i = 1; i <= 10; i++) await bus.publish(BOT, { eventId: `e${i}`, body: Buffer.from(`old${i}`) });
    await until(
      () => got.length === 10,
      () => `10 live events (got ${got.length})`,
    );

    // What a crash with appendfsync everysec (or a failover to a lagging replica) leaves: the state as of event 7.
    const stream = redisKeys.stream(BOT);
    const kept = (await raw.xrange(stream, '-', '+')).slice(0, 7);
    await raw.del(stream);
    for (const [id, fields] of kept) await raw.xadd(stream, id, ...fields);
    await raw.hset(redisKeys.meta(BOT), 'seq', 7);
    await raw.del(...[8, 9, 10].map((i) => redisKeys.eventId(BOT, `e${i}`)));
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    for (let i = 1; i <= 3; i++) await bus.publish(BOT, { eventId: `n${i}`, body: Buffer.from(`new${i}`) });

    await until(() => seen.lost > 0, 'the feed to notice that the numbering went back');
    expect(seen.lost).toBe(1);
    expect(got.filter((b) => b.startsWith('new'))).toEqual([]);
    await feeds.close();
    raw.disconnect();
    await close();
  });
});
