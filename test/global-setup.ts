import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from '@hookway/testkit';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServer | undefined;

/** One real redis-server for the whole run (or the one named by REDIS_URL); tests reach it with inject('redisUrl'). */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env.REDIS_URL;
  if (given) return project.provide('redisUrl', given);
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.dispose();
}
