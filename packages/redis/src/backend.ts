import { RedisConnection } from './connection.ts';

/**
 * Where every store keeps its data: in this process (the embedded default) or in a shared Redis. Each store
 * package opens its own store on the backend (`openEventLog`, `openSessionStore`, `openBotRegistry`, …), so the
 * stores never depend on one another, only on this.
 */
export type StoreBackend = { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly connection: RedisConnection };

export interface BackendSettings {
  /** Empty: in-process memory. */
  readonly redisUrl: string;
  readonly redisCommandTimeoutMs: number;
}

export const MEMORY_BACKEND: StoreBackend = { kind: 'memory' };

/** Redis when REDIS_URL is set (waiting briefly for it, but starting without it), else in-process memory. */
export async function openBackend(
  settings: BackendSettings,
  onWarning: (message: string, detail?: unknown) => void,
): Promise<StoreBackend> {
  if (settings.redisUrl === '') return MEMORY_BACKEND;
  const connection = new RedisConnection({ url: settings.redisUrl, commandTimeoutMs: settings.redisCommandTimeoutMs, onWarning });
  if (!(await connection.whenReady(3000))) onWarning('Redis is not reachable yet; serving 503 until it is');
  return { kind: 'redis', connection };
}

/** Closes what the backend holds (the Redis connection); the stores on it are closed first, by their owners. */
export async function closeBackend(backend: StoreBackend): Promise<void> {
  if (backend.kind === 'redis') await backend.connection.close();
}
