import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { concurrentGcWanted, type GcSettings } from '../src/gc-tuning.ts';

const PROBE = fileURLToPath(new URL('./gc-tuning-probe.ts', import.meta.url));

/** A fresh node running the probe with these settings; `nodeFlags` before it. */
function runProbe(heapGrowthPercent: number, concurrent: GcSettings['gcConcurrent'], cores: number, nodeFlags: string[] = []) {
  return execFileSync(
    process.execPath,
    ['--max-semi-space-size=4', ...nodeFlags, '--import', 'tsx', PROBE, String(heapGrowthPercent), concurrent, String(cores)],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
}

/** The largest old space a fresh process reached under the same churn, with this HEAP_GROWTH_PERCENT. */
function peakOldSpaceBytes(percent: number): number {
  const out = runProbe(percent, 'auto', 2).trim().split('\n').at(-1)!;
  return (JSON.parse(out) as { peakOldBytes: number }).peakOldBytes;
}

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
}

/**
 * The probe's run traced (node's trace events, V8's GC category), and how many times a helper thread marked or swept
 * the old generation while JavaScript ran: a helper's event that lies within none of the main thread's GC events.
 * Helpers also mark, copy and sweep inside the main thread's pauses (V8's parallel phases, joined before the pause
 * ends); those are not concurrent work and are not counted.
 */
function helperWorkWhileJsRuns(concurrent: GcSettings['gcConcurrent'], cores: number): { marking: number; sweeping: number } {
  const dir = mkdtempSync(join(tmpdir(), 'hookway-gc-trace-'));
  try {
    const file = join(dir, 'trace.json');
    runProbe(0, concurrent, cores, ['--trace-event-categories', 'disabled-by-default-v8.gc', '--trace-event-file-pattern', file]);
    const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents.filter((e) => e.ph === 'X');
    const mainTid = events.find((e) => e.name === 'V8.GC_MARK_COMPACTOR')?.tid;
    expect(mainTid, 'the probe went through a full collection').toBeDefined();
    const mainGc = events.filter((e) => e.tid === mainTid && e.name.startsWith('V8.GC'));
    const duringMainGc = (e: TraceEvent) => mainGc.some((m) => m.ts <= e.ts && e.ts + (e.dur ?? 0) <= m.ts + (m.dur ?? 0));
    const concurrentCount = (name: string) => events.filter((e) => e.name === name && e.tid !== mainTid && !duringMainGc(e)).length;
    return { marking: concurrentCount('V8.GC_MC_BACKGROUND_MARKING'), sweeping: concurrentCount('V8.GC_MC_BACKGROUND_SWEEPING') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('applyGcSettings', () => {
  it('HEAP_GROWTH_PERCENT makes V8 collect the old generation before it grows far past the live data', () => {
    // Same work, deterministic allocation: V8's own factor let the old space reach ~140 MiB over ~25 MiB live here,
    // 50 % kept it under ~60 (measured 139–144 vs 57).
    const unset = peakOldSpaceBytes(0);
    const capped = peakOldSpaceBytes(50);
    expect(capped).toBeLessThan(unset * 0.6);
  });

  it.each([
    ['on', 1, true],
    ['auto', 2, true],
    ['off', 2, false],
    ['auto', 1, false],
  ] as const)('GC_CONCURRENT=%s on %i core(s): helpers mark and sweep while JavaScript runs: %s', (concurrent, cores, expected) => {
    const work = helperWorkWhileJsRuns(concurrent, cores);
    if (expected) {
      expect(work.marking, 'concurrent marking').toBeGreaterThan(0);
      expect(work.sweeping, 'concurrent sweeping').toBeGreaterThan(0);
    } else {
      expect(work).toEqual({ marking: 0, sweeping: 0 });
    }
  });
});

describe('concurrentGcWanted', () => {
  it.each([
    ['auto', 1, false],
    ['auto', 2, true],
    ['auto', 16, true],
    ['on', 1, true],
    ['on', 4, true],
    ['off', 1, false],
    ['off', 4, false],
  ] as const)('%s on %i core(s): %s', (setting, cores, wanted) => {
    expect(concurrentGcWanted(setting, cores)).toBe(wanted);
  });
});
