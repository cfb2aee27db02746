import { Redis, type RedisOptions } from 'ioredis';
import type { HostPort, RedisTarget } from './target.ts';

const name = (n: HostPort) => `${n.host}:${n.port}`;

/** Asks one server a question on a short-lived connection; undefined when it cannot be reached. */
async function ask<T>(node: HostPort, options: RedisOptions, question: (r: Redis) => Promise<T>): Promise<T | { error: string }> {
  const client = new Redis({
    ...options,
    host: node.host,
    port: node.port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await question(client);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  } finally {
    client.disconnect();
  }
}

const failed = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

/**
 * Why a Sentinel or Cluster target cannot be served, in words naming the setting to fix: ioredis only says
 * "All sentinels are unreachable" when they answer but know no such master, and retries a cluster that is down.
 */
export async function diagnoseTarget(target: RedisTarget, options: RedisOptions): Promise<string | undefined> {
  if (target.mode === 'single') return undefined;
  if (target.mode === 'sentinel') {
    const answers = await Promise.all(
      target.sentinels.map((s) =>
        ask(s, { password: target.sentinelPassword || undefined }, (r) => r.call('SENTINEL', 'get-master-addr-by-name', target.masterName)),
      ),
    );
    const reachable = answers.filter((a) => !failed(a));
    if (reachable.length === 0) return `REDIS_SENTINELS: none of ${target.sentinels.map(name).join(',')} answers`;
    if (reachable.every((a) => a === null)) {
      return `REDIS_SENTINEL_MASTER=${target.masterName}: no sentinel in REDIS_SENTINELS knows a master by that name`;
    }
    return undefined;
  }
  const infos = await Promise.all(
    target.nodes.map((n) =>
      ask(n, { password: target.password || undefined, commandTimeout: options.commandTimeout }, (r) => r.cluster('INFO')),
    ),
  );
  const answered = infos.map((info, i) => ({ node: target.nodes[i]!, info })).filter((x) => !failed(x.info));
  if (answered.length === 0) return `REDIS_CLUSTER_NODES: none of ${target.nodes.map(name).join(',')} answers`;
  for (const { node, info } of answered) {
    const text = typeof info === 'string' ? info : '';
    const state = /cluster_state:(\w+)/.exec(text)?.[1];
    const assigned = Number(/cluster_slots_assigned:(\d+)/.exec(text)?.[1] ?? 0);
    if (state !== 'ok') {
      return `REDIS_CLUSTER_NODES: the cluster seen from ${name(node)} is in state ${state ?? 'unknown'}${assigned < 16384 ? ` (${16384 - assigned} of 16384 slots not covered)` : ''}`;
    }
  }
  return undefined;
}
