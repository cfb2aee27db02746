import { afterAll, beforeAll } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys, type RedisTarget } from '@hookway/redis';
import { readyConnections, redisTopologies } from '@hookway/testkit';
import { RedisClientKeyStore } from '../src/index.ts';
import { clientKeyStoreContract } from './client-key-store.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster (which has no FLUSHDB across nodes: the one hash is deleted). */
const topologies = redisTopologies(beforeAll, afterAll);
const connectionTo = readyConnections((target: RedisTarget) => new RedisConnection({ target }), afterAll, 10_000);

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
