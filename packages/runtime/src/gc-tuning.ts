import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import type { Config } from './config.ts';

/**
 * The settings applyGcSettings reads. V8 settings Hookway sets from its own code at start-up, before the service is
 * built: node refuses these flags in NODE_OPTIONS, and V8 reads each of them whenever it next needs it, so setting them
 * first thing holds for the process's life.
 */
export type GcSettings = Pick<Config, 'heapGrowthPercent' | 'gcConcurrent'>;

/**
 * GC_CONCURRENT → whether V8's helper threads mark the old generation and sweep its pages while JavaScript runs.
 * `auto`: only when the process may use more than one core (taskset counts). On one core a helper has no core of its
 * own: woken, the scheduler hands it the main thread's core for slices of several ms. The concurrent marker stalled
 * the event loop for 15–25 ms at each full collection; the sweeper, started at the end of each full collection's
 * pause, kept the pause going for another 3–6 ms (its "finish" phase, 8–11 ms pauses in all against 3–5 without;
 * docs/benchmarks.md, the 2 000/s tail). Without them V8 marks in steps of well under 1 ms and sweeps a page at a
 * time as it allocates, on the main thread, for about the same CPU.
 */
export function concurrentGcWanted(setting: GcSettings['gcConcurrent'], cores = availableParallelism()): boolean {
  return setting === 'on' || (setting === 'auto' && cores > 1);
}

/**
 * HEAP_GROWTH_PERCENT: how far V8's old generation may grow past the live data before the next full collection.
 * V8's own factor (1.1–4×, larger the cheaper its collections look) let an embedded relay's old space reach ~2× its
 * live data under steady load — promoted events and dedup ids that the history and the window let go later — and RSS
 * stayed there (113 → 96 MiB after 25 000 events at 50 %; 35 since marking runs on the main thread on one core,
 * GC_CONCURRENT — docs/benchmarks.md). 0 leaves V8's heuristic alone.
 *
 * GC_CONCURRENT: see concurrentGcWanted. Only ever switched off here (V8 starts with both on), before the first full
 * collection has begun.
 */
export function applyGcSettings(settings: GcSettings, cores = availableParallelism()): void {
  if (settings.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${settings.heapGrowthPercent}`);
  if (!concurrentGcWanted(settings.gcConcurrent, cores)) {
    setFlagsFromString('--no-concurrent-marking');
    setFlagsFromString('--no-concurrent-sweeping');
  }
}
