import { MemoryBus } from './memory.ts';
import { RedisBus } from './redis.ts';
import type { Bus, HistoryLimits } from './types.ts';

/** The settings the bus needs, as the runtime config names them. */
export interface BusSettings {
  readonly redisUrl: string;
  readonly historyMaxEvents: number;
  readonly historyMaxAgeSec: number;
  readonly historyMaxBytes: number;
  readonly dedupWindowSec: number;
  readonly redisCommandTimeoutMs: number;
  readonly redisProbeIntervalMs: number;
}

export interface ConfiguredBus {
  readonly bus: Bus;
  readonly kind: 'redis' | 'memory';
  /** For `/readyz` and `/healthz`. */
  readonly health: { notReadyReason(): string | undefined; stats(): Record<string, number> };
}

/** The bus limits from the settings (which are in seconds, as the environment variables are). */
export function historyLimits(settings: Omit<BusSettings, 'redisUrl' | 'redisCommandTimeoutMs' | 'redisProbeIntervalMs'>): HistoryLimits {
  return {
    historyMaxEvents: settings.historyMaxEvents,
    historyMaxAgeMs: settings.historyMaxAgeSec * 1000,
    historyMaxBytes: settings.historyMaxBytes,
    dedupWindowMs: settings.dedupWindowSec * 1000,
  };
}

/** Redis when REDIS_URL is set, else the in-process bus; waits briefly for Redis but starts without it. */
export async function createBus(settings: BusSettings, onWarning: (message: string, detail?: unknown) => void): Promise<ConfiguredBus> {
  const limits = historyLimits(settings);
  if (settings.redisUrl === '') {
    const bus = new MemoryBus(limits);
    return {
      bus,
      kind: 'memory',
      health: { notReadyReason: () => (bus.isReady() ? undefined : 'bus closed'), stats: () => ({ botsInMemory: bus.botCount() }) },
    };
  }
  const bus = new RedisBus({
    url: settings.redisUrl,
    ...limits,
    commandTimeoutMs: settings.redisCommandTimeoutMs,
    subscriberProbeIntervalMs: settings.redisProbeIntervalMs,
    onWarning,
  });
  if (!(await bus.whenReady(3000))) onWarning('Redis is not reachable yet; serving 503 until it is');
  return { bus, kind: 'redis', health: { notReadyReason: () => bus.notReadyReason(), stats: () => bus.stats() } };
}
