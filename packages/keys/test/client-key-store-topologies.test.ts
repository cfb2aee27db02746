import { afterAll, beforeAll } from 'vitest';
import { RedisConnection, redisKeys, type RedisTarget } from '@hookway/redis';
import { redisTopologies } from '@hookway/testkit';
import { RedisClientKeyStore } from '../src/index.ts';
import { clientKeyStoreContract } from './client-key-store.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster (which has no FLUSHDB across nodes: the one hash is deleted). */
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

for (const [name, target] of [
  ['Sentinel', () => topologies.sentinel()],
  ['Cluster', () => topologies.cluster()],
] as const) {
  clientKeyStoreContract(`RedisClientKeyStore on ${name}`, async () => {
    const [one, two] = [await connectionTo(target()), await connectionTo(target())];
    await one.client.del(redisKeys.clientKeys());
    let opened = 0;
    return { open: () => new RedisClientKeyStore(opened++ % 2 === 0 ? one : two) };
  });
}
