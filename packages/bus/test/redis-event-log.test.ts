import { afterAll, inject } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import { readyConnections } from '@hookway/testkit';
import { RedisEventLog } from '../src/index.ts';
import { eventLogContract } from './event-log.contract.ts';

const connection = readyConnections(() => new RedisConnection({ url: inject('redisUrl') }), afterAll, 5000);

eventLogContract('RedisEventLog', async (limits) => new RedisEventLog({ connection: await connection(), ...limits }));
