export { redisKeys, META_TTL_MS } from './keys.ts';
export {
  RedisConnection,
  RedisCommandError,
  cleanRedisError,
  quitRedis,
  type RedisConnectionOptions,
  type RedisConnectionStats,
} from './connection.ts';
export { openBackend, closeBackend, MEMORY_BACKEND, type StoreBackend, type BackendSettings } from './backend.ts';
