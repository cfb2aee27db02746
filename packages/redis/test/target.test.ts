import { describe, expect, it } from 'vitest';
import { describeTarget, redisTarget, usesRedis, type RedisTargetSettings } from '../src/index.ts';

const none: RedisTargetSettings = {
  redisUrl: '',
  redisSentinels: [],
  redisSentinelMaster: 'mymaster',
  redisSentinelPassword: '',
  redisPassword: '',
  redisClusterNodes: [],
};
const node = (port: number) => ({ host: '10.0.0.1', port });

describe('redisTarget', () => {
  it.each([
    [{}, undefined, 'nothing'],
    [{ redisUrl: 'redis://:s3cret@db:6380/2' }, 'single', 'Redis at db:6380'],
    [
      { redisSentinels: [node(26379), node(26380)], redisSentinelMaster: 'hw', redisPassword: 's3cret', redisSentinelPassword: 's3cret' },
      'sentinel',
      'Redis master "hw" via Sentinel 10.0.0.1:26379,10.0.0.1:26380',
    ],
    [{ redisClusterNodes: [node(7000)], redisPassword: 's3cret' }, 'cluster', 'Redis Cluster 10.0.0.1:7000'],
  ] as const)('%j → %s, described as %s without its password', (settings, mode, described) => {
    const target = redisTarget({ ...none, ...settings });
    expect(target?.mode).toBe(mode);
    expect(usesRedis({ ...none, ...settings })).toBe(mode !== undefined);
    if (target) {
      expect(describeTarget(target)).toBe(described);
      expect(describeTarget(target)).not.toContain('s3cret');
    }
  });
});
