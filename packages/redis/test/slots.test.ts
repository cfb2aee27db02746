import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@hookway/testkit';
import { keySlot } from '../src/slots.ts';

describe('keySlot (the Cluster key → slot rule)', () => {
  it.each([
    ['123456789', 12739], // CRC16/XMODEM's check value 0x31C3
    ['foo', 12182],
    ['{user1000}.following', keySlot('user1000')],
    ['{user1000}.followers', keySlot('user1000')],
    ['foo{}{bar}', keySlot('foo{}{bar}')], // an empty first tag: the whole key
    ['foo{{bar}}zap', keySlot('{bar')], // the tag ends at the first `}`
    ['foo{bar}{zap}', keySlot('bar')], // only the first tag counts
    ['qq:{S3cret}:meta', keySlot('S3cret')],
  ])('%s → slot %i', (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });

  describe('agrees with CLUSTER KEYSLOT of a real server', () => {
    let server: RedisServer;
    let redis: Redis;
    beforeAll(async () => {
      server = await startRedisServer({ extraArgs: ['--cluster-enabled', 'yes'] });
      redis = new Redis(server.url);
    });
    afterAll(async () => {
      redis.disconnect();
      await server.dispose();
    });

    it('for tagged, untagged and non-ASCII names', async () => {
      const keys = ['', 'foo{}{bar}', 'foo{{bar}}zap', '机器人{秘密}', 'hookway:probe:abc:{7}'];
      for (let i = 0; i < 200; i++) keys.push(`qq:{Bot${i}x${(i * 7919).toString(36)}}`, `hookway:probe:n${i}:{${i}}`, `k${i}`);
      const theirs = await Promise.all(keys.map((k) => redis.call('CLUSTER', 'KEYSLOT', k)));
      expect(keys.map(keySlot)).toEqual(theirs.map(Number));
    });
  });
});
