import type { StoreBackend } from '@hookway/redis';
import { MemoryEventLog } from './memory-event-log.ts';
import { RedisEventLog } from './redis-event-log.ts';
import type { EventLog, HistoryLimits } from './types.ts';

/** The settings the event log needs, as the runtime config names them (in seconds, as the environment variables are). */
export interface EventLogSettings {
  readonly historyMaxEvents: number;
  readonly historyMaxAgeSec: number;
  readonly historyMaxBytes: number;
  readonly dedupWindowSec: number;
  readonly redisProbeIntervalMs: number;
}

export interface OpenedEventLog {
  readonly log: EventLog;
  /** For `/readyz` and `/healthz`. */
  readonly health: { notReadyReason(): string | undefined; stats(): Record<string, number> };
}

/** The event log's limits from the settings. */
export function historyLimits(settings: Omit<EventLogSettings, 'redisProbeIntervalMs'>): HistoryLimits {
  return {
    historyMaxEvents: settings.historyMaxEvents,
    historyMaxAgeMs: settings.historyMaxAgeSec * 1000,
    historyMaxBytes: settings.historyMaxBytes,
    dedupWindowMs: settings.dedupWindowSec * 1000,
  };
}

/** The event log on the process's backend: in memory, or in the shared Redis. */
export function openEventLog(backend: StoreBackend, settings: EventLogSettings): OpenedEventLog {
  const limits = historyLimits(settings);
  if (backend.kind === 'memory') {
    const log = new MemoryEventLog(limits);
    return {
      log,
      health: { notReadyReason: () => (log.isReady() ? undefined : 'event log closed'), stats: () => ({ botsInMemory: log.botCount() }) },
    };
  }
  const log = new RedisEventLog({ connection: backend.connection, ...limits, subscriberProbeIntervalMs: settings.redisProbeIntervalMs });
  return { log, health: { notReadyReason: () => log.notReadyReason(), stats: () => log.stats() } };
}
