export * from './types.ts';
export { continuesWithoutGap, withLiveFront } from './continuity.ts';
export { MemoryEventLog, newEpoch, type MemoryEventLogOptions } from './memory-event-log.ts';
export { RedisEventLog, decodeChannelMessage, type RedisEventLogOptions, type RedisEventLogStats } from './redis-event-log.ts';
export { openEventLog, historyLimits, type EventLogSettings, type OpenedEventLog } from './open-event-log.ts';
