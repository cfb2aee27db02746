import { afterAll, beforeAll } from 'vitest';
import { RedisConnection, type RedisTarget } from '@hookway/redis';
import { redisTopologies } from '@hookway/testkit';
import { RedisReplicaReports } from '../src/index.ts';
import { replicaReportsContract } from './replica-reports.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster (one slot: `{replicas}`). */
const topologies = redisTopologies(beforeAll, afterAll);
const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
});

async function connectionTo(target: RedisTarget): Promise<RedisConnection> {
  const connection = new RedisConnection({ target });
  connections.push(connection);
  if (!(await connection.whenReady(10_000))) throw new Error(`redis did not become ready: ${connection.notReadyReason()}`);
  return connection;
}

replicaReportsContract('RedisReplicaReports on Sentinel', async () => new RedisReplicaReports(await connectionTo(topologies.sentinel())));
replicaReportsContract('RedisReplicaReports on Cluster', async () => new RedisReplicaReports(await connectionTo(topologies.cluster())));
