import { afterAll, beforeAll } from 'vitest';
import { RedisConnection, type RedisTarget } from '@hookway/redis';
import { redisTopologies } from '@hookway/testkit';
import { RedisSessionStore } from '../src/official/session-store.ts';
import { sessionStoreContract } from './session-store.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster. */
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

sessionStoreContract('RedisSessionStore on Sentinel', async () => new RedisSessionStore(await connectionTo(topologies.sentinel())));
sessionStoreContract('RedisSessionStore on Cluster', async () => new RedisSessionStore(await connectionTo(topologies.cluster())));
