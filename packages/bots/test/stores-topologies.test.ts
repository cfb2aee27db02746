import { afterAll, beforeAll } from 'vitest';
import { RedisConnection } from '@hookway/redis/connection';
import type { RedisTarget } from '@hookway/redis';
import { readyConnections, redisTopologies } from '@hookway/testkit';
import { RedisBotActivity, RedisBotRegistry } from '../src/index.ts';
import { botActivityContract } from './bot-activity.contract.ts';
import { botRegistryContract } from './bot-registry.contract.ts';

/** The same contracts (bot registry, bot activity) as on one server, against a real Sentinel set-up and a real Cluster. */
const topologies = redisTopologies(beforeAll, afterAll);
const connectionTo = readyConnections((target: RedisTarget) => new RedisConnection({ target }), afterAll, 10_000);

botRegistryContract('RedisBotRegistry on Sentinel', async () => new RedisBotRegistry(await connectionTo(topologies.sentinel())));
botRegistryContract('RedisBotRegistry on Cluster', async () => new RedisBotRegistry(await connectionTo(topologies.cluster())));
botActivityContract('RedisBotActivity on Sentinel', async () => new RedisBotActivity(await connectionTo(topologies.sentinel())));
botActivityContract('RedisBotActivity on Cluster', async () => new RedisBotActivity(await connectionTo(topologies.cluster())));
