export * from './types.ts';
export { MemoryBus, newEpoch, type MemoryBusOptions } from './memory.ts';
export { RedisBus, RedisBusError, decodeChannelMessage, type RedisBusOptions, type RedisBusStats } from './redis.ts';
export { redisKeys, META_TTL_MS } from './redis-keys.ts';
export { createBus, historyLimits, type BusSettings, type ConfiguredBus } from './create-bus.ts';
