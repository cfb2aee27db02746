import type { RedisConnection } from './connection.ts';
import { describeTarget, redisTarget, type RedisTargetSettings } from './target.ts';

/**
 * Where every store keeps its data: in this process (the embedded default) or in a shared Redis (one server,
 * Sentinel or Cluster: the stores see one `RedisConnection` either way). Each store package opens its own store
 * on the backend (`openEventLog`, `openSessionStore`, `openBotRegistry`, …), so the stores never depend on one
 * another, only on this.
 */
export type StoreBackend = { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly connection: RedisConnection };

export interface BackendSettings extends RedisTargetSettings {
  readonly redisCommandTimeoutMs: number;
  readonly redisMinReplicasAcked: number;
  readonly redisWaitTimeoutMs: number;
}

export const MEMORY_BACKEND: StoreBackend = { kind: 'memory' };

/** The Redis connection the settings name (waiting briefly for it, but starting without it), else in-process memory. */
export async function openBackend(
  settings: BackendSettings,
  onWarning: (message: string, detail?: unknown) => void,
): Promise<StoreBackend> {
  const target = redisTarget(settings);
  if (!target) return MEMORY_BACKEND;
  const connection = await openRedisConnection(settings, onWarning);
  if (!(await connection.whenReady(3000))) {
    onWarning(`${describeTarget(target)} is not reachable yet; serving 503 until it is`, { reason: connection.notReadyReason() });
  }
  return { kind: 'redis', connection };
}

/**
 * A connection with the settings' target, timeouts and replica policy (for commands that open their own). The
 * connection module, and ioredis with it, is imported here on first use: a process without Redis never loads it
 * (about 10 MiB of RSS, docs/benchmarks.md), and the one-file build keeps it as a lazily evaluated part.
 */
export async function openRedisConnection(
  settings: BackendSettings,
  onWarning?: (message: string, detail?: unknown) => void,
): Promise<RedisConnection> {
  const target = redisTarget(settings);
  if (!target) throw new Error('no Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  const { RedisConnection } = await import('./connection.ts');
  return new RedisConnection({
    target,
    commandTimeoutMs: settings.redisCommandTimeoutMs,
    minReplicasAcked: settings.redisMinReplicasAcked,
    waitTimeoutMs: settings.redisWaitTimeoutMs,
    onWarning,
  });
}

/** Closes what the backend holds (the Redis connection); the stores on it are closed first, by their owners. */
export async function closeBackend(backend: StoreBackend): Promise<void> {
  if (backend.kind === 'redis') await backend.connection.close();
}
