import { afterAll, describe, expect, inject, it } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import { readyConnections } from '@hookway/testkit';
import { MemorySessionStore, RedisSessionStore } from '../src/official/session-store.ts';
import { sessionStoreContract } from './session-store.contract.ts';

const connection = readyConnections(() => new RedisConnection({ url: inject('redisUrl') }), afterAll, 5000);

sessionStoreContract('MemorySessionStore', async () => new MemorySessionStore());
sessionStoreContract('RedisSessionStore', async () => new RedisSessionStore(await connection()));

describe('session stores', () => {
  it('Redis: a session saved through one replica resumes through another', async () => {
    const [one, two] = [new RedisSessionStore(await connection()), new RedisSessionStore(await connection())];
    const id = `cross-${process.pid}-${Date.now()}`;
    await one.save(id, '{"base":7}', 60_000);
    expect(await two.load(id)).toBe('{"base":7}');
  });

  it('memory: expired sessions are swept, not kept forever', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(() => now, 10);
    await store.save('a', 'x', 100);
    now += 1000;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (store.size === 0) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    expect(await store.load('a')).toBeUndefined();
    await store.close();
  });
});
