import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '@hookway/testkit';
import { RedisConnection } from '../src/connection.ts';

/**
 * ioredis ends a client by itself when a reconnect is interrupted while it asks the sentinels for the master
 * (keep-connecting.ts); a `disconnect()` that is not our close() leaves a client in that same state: `end`, no retry.
 */
const endWithoutClose = (client: Redis) => client.disconnect();

describe('a one-server or Sentinel client that ioredis ended by itself connects again', () => {
  let server: RedisServer | undefined;
  let connection: RedisConnection | undefined;
  afterEach(async () => {
    await connection?.close();
    await server?.dispose();
  });

  it('the subscriber, with its subscriptions', async () => {
    server = await startRedisServer();
    connection = new RedisConnection({ url: server.url });
    const subscriber = connection.newSubscriber();
    const heard: string[] = [];
    let messageArrived: () => void = () => undefined;
    subscriber.onMessage((channel, message) => {
      heard.push(`${channel}:${message.toString()}`);
      messageArrived();
    });
    await subscriber.subscribe('revive');
    const resubscribed = new Promise<void>((resolve) => subscriber.onResubscribed(resolve));

    endWithoutClose((subscriber as unknown as { client: Redis }).client);
    await resubscribed; // connected again and its SUBSCRIBE restored
    const arrived = new Promise<void>((resolve) => (messageArrived = resolve));
    await connection.publish('revive', 'after');
    await arrived;
    expect(heard).toEqual(['revive:after']);
    await subscriber.close();
  });

  it('the command connection', async () => {
    server = await startRedisServer();
    connection = new RedisConnection({ url: server.url });
    const client = connection.client as Redis;
    if (client.status !== 'ready') await once(client, 'ready');
    const readyAgain = once(client, 'ready');
    endWithoutClose(client);
    await readyAgain;
    expect(await client.ping()).toBe('PONG');
  });
});
