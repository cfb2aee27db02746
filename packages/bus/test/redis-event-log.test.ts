import { afterAll, inject } from 'vitest';
import { RedisConnection } from '@hookway/redis';
import { RedisEventLog } from '../src/index.ts';
import { eventLogContract } from './event-log.contract.ts';

const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
});

eventLogContract('RedisEventLog', async (limits) => {
  const connection = new RedisConnection({ url: inject('redisUrl') });
  connections.push(connection);
  if (!(await connection.whenReady())) throw new Error('redis did not become ready');
  return new RedisEventLog({ connection, ...limits });
});
