export * from './types.ts';
export { MemoryBus, newEpoch, type MemoryBusOptions } from './memory.ts';
