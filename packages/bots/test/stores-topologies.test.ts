import { afterAll, beforeAll } from 'vitest';
import { RedisConnection, type RedisTarget } from '@hookway/redis';
import { redisTopologies } from '@hookway/testkit';
import { RedisBotActivity, RedisBotRegistry } from '../src/index.ts';
import { botActivityContract } from './bot-activity.contract.ts';
import { botRegistryContract } from './bot-registry.contract.ts';

/** The same contracts (bot registry, bot activity) as on one server, against a real Sentinel set-up and a real Cluster. */
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

botRegistryContract('RedisBotRegistry on Sentinel', async () => new RedisBotRegistry(await connectionTo(topologies.sentinel())));
botRegistryContract('RedisBotRegistry on Cluster', async () => new RedisBotRegistry(await connectionTo(topologies.cluster())));
botActivityContract('RedisBotActivity on Sentinel', async () => new RedisBotActivity(await connectionTo(topologies.sentinel())));
botActivityContract('RedisBotActivity on Cluster', async () => new RedisBotActivity(await connectionTo(topologies.cluster())));
