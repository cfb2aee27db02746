import { afterAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys } from '@hookway/redis';
import { readyConnections } from '@hookway/testkit';
import { MemoryReplicaReports, RedisReplicaReports } from '../src/index.ts';
import { replicaReportsContract, report } from './replica-reports.contract.ts';

const connection = readyConnections(() => new RedisConnection({ url: inject('redisUrl') }), afterAll, 5000);

replicaReportsContract('MemoryReplicaReports', async () => new MemoryReplicaReports());
replicaReportsContract('RedisReplicaReports', async () => new RedisReplicaReports(await connection()));

describe('RedisReplicaReports specifics', () => {
  it('is shared by every replica on the same Redis, and skips entries that are not reports', async () => {
    const [one, two] = [new RedisReplicaReports(await connection()), new RedisReplicaReports(await connection())];
    const id = `gateway-shared-${Date.now()}`;
    const raw = new Redis(inject('redisUrl'));
    try {
      await raw.set(redisKeys.replicaReport(`${id}-junk`), '{"not":"a report"}', 'PX', 60_000);
      await raw.zadd(redisKeys.replicas(), Date.now() + 60_000, `${id}-junk`);
      await one.write(report(id), 60_000);
      const seen = (await two.all()).map((r) => r.replicaId);
      expect(seen).toContain(id);
      expect(seen).not.toContain(`${id}-junk`);
      expect(await raw.pttl(redisKeys.replicaReport(id))).toBeGreaterThan(50_000);
    } finally {
      await raw.del(redisKeys.replicaReport(id), redisKeys.replicaReport(`${id}-junk`));
      await raw.zrem(redisKeys.replicas(), id, `${id}-junk`);
      raw.disconnect();
    }
  });
});
