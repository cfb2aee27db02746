import { describe, expect, inject, it } from 'vitest';
import { RedisClientKeyStore } from '@hookway/keys';
import { RedisConnection } from '@hookway/redis/connection';
import { groupAtMessage, type WsCollector } from '@hookway/testkit';
import { addKey, gatewayFixture, memoryStores, SECRET } from './gateway-fixture.ts';

const { start, connect, open, identified } = gatewayFixture();

/** Resolves with the close and how long after `fromMs` it came; fails when there is none within 6 s of `fromMs`. */
const closedWithin = async (c: WsCollector, fromMs: number) => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('not closed within 6 s')), fromMs + 6000 - Date.now());
  });
  try {
    const { code } = await Promise.race([c.closed, late]);
    return { code, afterMs: Date.now() - fromMs };
  } finally {
    clearTimeout(timer);
  }
};

describe('revoking a key', () => {
  it('closes its raw clients with 4102 and its gateway sessions with op 9 + 4004 within 5 s; other clients stay', async () => {
    const g = await start();
    const { key, name } = await addKey(g.stores.keys);
    const { key: otherKey } = await addKey(g.stores.keys);
    const raw = [await connect(g, `/ws?key=${key}`), await connect(g, '/ws', { headers: { authorization: `Bearer ${key}` } })];
    const sessions = [await identified(g, key), await identified(g, `QQBot ${key}`)];
    const viaUrl = await open(g, `/websocket?key=${key}`);
    viaUrl.identify('anything');
    await viaUrl.next(2);
    const stay = [await connect(g, `/ws?secret=${SECRET}`), await connect(g, `/ws?key=${otherKey}`)];

    const revokedAt = Date.now();
    expect(await g.stores.keys.revoke(name)).toBe(true);
    for (const c of raw) {
      const closed = await closedWithin(c, revokedAt);
      expect(closed.code).toBe(4102);
      expect(closed.afterMs).toBeLessThan(5000);
    }
    for (const c of [...sessions, viaUrl]) {
      const closed = await closedWithin(c, revokedAt);
      expect(closed.code).toBe(4004);
      expect(closed.afterMs).toBeLessThan(5000);
      expect(c.parsed().at(-1)).toMatchObject({ op: 9 });
    }
    expect(g.gateway.stats().clientKeyRevocationCloses).toBe(5);
    expect(g.logs.some((l) => l.includes('client key revoked or expired') && l.includes(`"key":"${name}"`))).toBe(true);
    const body = groupAtMessage();
    await g.publish(body);
    for (const c of stay) expect(await c.waitForFrames(1)).toEqual([body]);
  });

  it('closes a key’s clients once its expiry passes, not before, within 5 s of it', async () => {
    const g = await start();
    const expiresAtMs = Date.now() + 1500;
    const { key } = await addKey(g.stores.keys, { expiresAtMs });
    const raw = await connect(g, `/ws?key=${key}`);
    const session = await identified(g, key);
    const rawClosed = await closedWithin(raw, expiresAtMs);
    const sessionClosed = await closedWithin(session, expiresAtMs);
    expect(rawClosed.code).toBe(4102);
    expect(sessionClosed.code).toBe(4004);
    for (const closed of [rawClosed, sessionClosed]) {
      expect(closed.afterMs).toBeGreaterThanOrEqual(0);
      expect(closed.afterMs).toBeLessThan(5000);
    }
  });

  it('on Redis, closes the key’s clients on every gateway sharing the store', async () => {
    const connection = new RedisConnection({ url: inject('redisUrl') });
    try {
      expect(await connection.whenReady()).toBe(true);
      const stores = { ...memoryStores(), keys: new RedisClientKeyStore(connection) };
      const [one, two] = [await start({}, { stores }), await start({}, { stores })];
      const { key, name } = await addKey(stores.keys, { name: `redis-revoke-${Date.now().toString(36)}` });
      const clients = [await connect(one, `/ws?key=${key}`), await connect(two, `/ws?key=${key}`)];
      const body = groupAtMessage();
      await one.publish(body);
      for (const c of clients) expect(await c.waitForFrames(1)).toEqual([body]);
      const revokedAt = Date.now();
      expect(await new RedisClientKeyStore(connection).revoke(name)).toBe(true);
      for (const c of clients) {
        const closed = await closedWithin(c, revokedAt);
        expect(closed).toMatchObject({ code: 4102 });
        expect(closed.afterMs).toBeLessThan(5000);
      }
    } finally {
      await connection.close();
    }
  });
});
