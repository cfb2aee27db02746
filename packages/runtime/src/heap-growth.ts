import { setFlagsFromString } from 'node:v8';

/**
 * HEAP_GROWTH_PERCENT: how far V8's old generation may grow past the live data before the next full collection.
 * V8's own factor (1.1–4×, larger the cheaper its collections look) let an embedded relay's old space reach ~2× its
 * live data under steady load — promoted events and dedup ids that the history and the window let go later — and RSS
 * stayed there (113 → 96 MiB after 25 000 events at 50 %, docs/benchmarks.md). Set from the code because node refuses
 * this V8 flag in NODE_OPTIONS; V8 reads it each time it sets the next limit, so setting it at start-up takes effect
 * for the process's life. 0 leaves V8's heuristic alone.
 */
export function applyHeapGrowthPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
