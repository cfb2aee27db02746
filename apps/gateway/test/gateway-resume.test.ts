import { describe, expect, inject, it } from 'vitest';
import { RedisBotRegistry } from '@hookway/bots';
import { RedisEventLog } from '@hookway/bus';
import { RedisClientKeyStore } from '@hookway/keys';
import { RedisConnection } from '@hookway/redis/connection';
import { groupAtMessage, idOf, until } from '@hookway/testkit';
import { RedisSessionStore } from '../src/index.ts';
import { accessToken, BOT, FakeQqApi, gatewayFixture, memoryStores, sessionIdOf } from './gateway-fixture.ts';

const { start, open, identified } = gatewayFixture();

describe('sessions resume across gateways sharing the stores', () => {
  it('resumes on another gateway: replays every event after seq, then RESUMED', async () => {
    const stores = memoryStores();
    const api = new FakeQqApi([BOT]);
    const one = await start({}, { stores, api });
    const two = await start({}, { stores, api });
    const first = await identified(one);
    const sessionId = sessionIdOf(first);
    await one.publish(groupAtMessage());
    await one.publish(groupAtMessage());
    const seen = await first.next(4);
    first.ws.terminate();
    const missed = [groupAtMessage(), groupAtMessage()];
    for (const body of missed) await two.publish(body);
    const resumed = await open(two);
    resumed.send({ op: 6, d: { token: api.tokenOf(BOT.appid), session_id: sessionId, seq: seen[3]!.s } }); // botgo's bare token
    const frames = await resumed.next(4);
    expect(frames.slice(1, 3).map((f) => [f.s, f.id])).toEqual(missed.map((b, i) => [4 + i, idOf(b)]));
    expect(frames[3]).toEqual({ op: 0, s: 5, t: 'RESUMED', d: '' });
    const live = groupAtMessage();
    await two.publish(live);
    expect((await resumed.next(5))[4]).toMatchObject({ s: 6, id: idOf(live) });
  });

  it('answers a Resume it cannot honour completely with op 9, then closes with 4006 (never a partial replay)', async () => {
    const g = await start({ historyMaxEvents: 3 });
    const first = await identified(g);
    const sessionId = sessionIdOf(first);
    first.ws.terminate();
    for (let i = 0; i < 6; i++) await g.publish(groupAtMessage());
    const resumed = await open(g);
    resumed.send({ op: 6, d: { token: accessToken(g), session_id: sessionId, seq: 1 } });
    const frames = await resumed.next(2);
    expect(frames[1]).toMatchObject({ op: 9 });
    expect((await resumed.closed).code).toBe(4006);
    expect(resumed.parsed().filter((f) => f.op === 0)).toEqual([]);
  });

  it('leaves the bot’s feed when a Resume is refused (no subscription left behind)', async () => {
    const g = await start({ historyMaxEvents: 2 });
    const first = await identified(g);
    const sessionId = sessionIdOf(first);
    first.ws.terminate();
    for (let i = 0; i < 4; i++) await g.publish(groupAtMessage());
    for (let i = 0; i < 5; i++) {
      const c = await open(g);
      c.send({ op: 6, d: { token: accessToken(g), session_id: sessionId, seq: 1 } });
      expect((await c.closed).code).toBe(4006);
    }
    await until(() => g.gateway.stats().connections === 0, 'the server to see every socket closed');
    expect(g.gateway.stats()).toMatchObject({ connections: 0, bots: 0 });
  });

  it('resumes (on Redis) a session identified before the bot’s first event ever', async () => {
    const fresh = { ...BOT, appid: '102000099', secret: `FreshBot${Date.now().toString(36)}x1` };
    const connection = new RedisConnection({ url: inject('redisUrl') });
    const events = new RedisEventLog({
      connection,
      historyMaxEvents: 100,
      historyMaxAgeMs: 60_000,
      historyMaxBytes: 1 << 20,
      dedupWindowMs: 60_000,
    });
    expect(await connection.whenReady()).toBe(true);
    const stores = {
      events,
      sessions: new RedisSessionStore(connection),
      bots: new RedisBotRegistry(connection),
      keys: new RedisClientKeyStore(connection),
    };
    const g = await start({ bots: new Map([[fresh.appid, fresh.secret]]) }, { stores, api: new FakeQqApi([BOT, fresh]) });
    const c = await open(g);
    c.identify(accessToken(g, fresh.appid));
    await c.next(2);
    const sessionId = sessionIdOf(c);
    c.ws.terminate();
    await until(() => g.gateway.stats().connections === 0, 'the server to see the socket closed');
    const missed = groupAtMessage({ content: 'MISSED' });
    await g.publish(missed, fresh.secret);
    const resumed = await open(g);
    resumed.send({ op: 6, d: { token: accessToken(g, fresh.appid), session_id: sessionId, seq: 1 } });
    const frames = await resumed.next(3);
    expect(frames[1]).toMatchObject({ s: 2, id: idOf(missed) });
    expect(frames[2]).toMatchObject({ t: 'RESUMED', s: 2 });
    resumed.ws.terminate();
    await g.close();
    await events.close();
    await connection.close();
  });
});
