export { redisKeys, META_TTL_MS } from './keys.ts';
export {
  RedisConnection,
  RedisCommandError,
  ReplicaShortfallError,
  cleanRedisError,
  quitRedis,
  type RedisClient,
  type RedisConnectionOptions,
  type RedisConnectionStats,
} from './connection.ts';
export type { ChannelSubscriber } from './subscriber.ts';
export { redisTarget, usesRedis, describeTarget, type RedisTarget, type RedisTargetSettings, type HostPort } from './target.ts';
export { diagnoseTarget } from './diagnose.ts';
export { openBackend, openRedisConnection, closeBackend, MEMORY_BACKEND, type StoreBackend, type BackendSettings } from './backend.ts';
