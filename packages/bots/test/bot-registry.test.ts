import { afterAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { AppSecret } from '@hookway/protocol';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys } from '@hookway/redis';
import { readyConnections } from '@hookway/testkit';
import { MemoryBotRegistry, RedisBotRegistry } from '../src/index.ts';
import { botRegistryContract } from './bot-registry.contract.ts';

const connection = readyConnections(() => new RedisConnection({ url: inject('redisUrl') }), afterAll, 5000);

botRegistryContract('MemoryBotRegistry', async () => new MemoryBotRegistry());
botRegistryContract('RedisBotRegistry', async () => new RedisBotRegistry(await connection()));

describe('RedisBotRegistry specifics', () => {
  it('is shared by every replica on the same Redis, and ignores entries that are no secret', async () => {
    const [one, two] = [new RedisBotRegistry(await connection()), new RedisBotRegistry(await connection())];
    const appid = String(900_000_000 + (Date.now() % 1_000_000));
    const raw = new Redis(inject('redisUrl'));
    try {
      await raw.hset(redisKeys.bots(), `${appid}9`, 'no way');
      await one.remember(appid, AppSecret.of('sharedSecret1'));
      const seen = await two.all();
      expect(seen.get(appid)?.reveal()).toBe('sharedSecret1');
      expect(seen.has(`${appid}9`)).toBe(false);
    } finally {
      await raw.hdel(redisKeys.bots(), `${appid}9`, appid);
      raw.disconnect();
    }
  });
});
