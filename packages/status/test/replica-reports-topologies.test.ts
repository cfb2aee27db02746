import { afterAll, beforeAll } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import type { RedisTarget } from '@hookway/redis';
import { readyConnections, redisTopologies } from '@hookway/testkit';
import { RedisReplicaReports } from '../src/index.ts';
import { replicaReportsContract } from './replica-reports.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster (one slot: `{replicas}`). */
const topologies = redisTopologies(beforeAll, afterAll);
const connectionTo = readyConnections((target: RedisTarget) => new RedisConnection({ target }), afterAll, 10_000);

replicaReportsContract('RedisReplicaReports on Sentinel', async () => new RedisReplicaReports(await connectionTo(topologies.sentinel())));
replicaReportsContract('RedisReplicaReports on Cluster', async () => new RedisReplicaReports(await connectionTo(topologies.cluster())));
