import { afterAll, beforeAll } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import type { RedisTarget } from '@hookway/redis';
import { readyConnections, redisTopologies } from '@hookway/testkit';
import { RedisSessionStore } from '../src/official/session-store.ts';
import { sessionStoreContract } from './session-store.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster. */
const topologies = redisTopologies(beforeAll, afterAll);
const connectionTo = readyConnections((target: RedisTarget) => new RedisConnection({ target }), afterAll, 10_000);

sessionStoreContract('RedisSessionStore on Sentinel', async () => new RedisSessionStore(await connectionTo(topologies.sentinel())));
sessionStoreContract('RedisSessionStore on Cluster', async () => new RedisSessionStore(await connectionTo(topologies.cluster())));
