export { redisKeys, META_TTL_MS } from './keys.ts';
export { RedisCommandError, ReplicaShortfallError, cleanRedisError } from './errors.ts';
// Types only: the class (and ioredis behind it) is loaded when a Redis is configured — `openBackend` — or imported
// from '@hookway/redis/connection'. The embedded relay never evaluates ioredis (docs/benchmarks.md: ~10 MiB idle RSS).
export type { RedisConnection, RedisClient, RedisConnectionOptions, RedisConnectionStats } from './connection.ts';
export type { ChannelSubscriber } from './subscriber.ts';
export { redisTarget, usesRedis, describeTarget, type RedisTarget, type RedisTargetSettings, type HostPort } from './target.ts';
export { openBackend, openRedisConnection, closeBackend, MEMORY_BACKEND, type StoreBackend, type BackendSettings } from './backend.ts';
