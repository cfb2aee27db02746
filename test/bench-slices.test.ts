import { describe, expect, it } from 'vitest';
import { combineSlices, sliceOrder, type ClosedLoopFigures } from '../bench/slices.ts';

/** A slice of bench/load.ts output: `acked` events in `measuredMs`, `cpuUs` of server CPU per event. */
function slice(acked: number, measuredMs: number, cpuUs: number, extra: Partial<ClosedLoopFigures> = {}): ClosedLoopFigures {
  return {
    acked,
    delivered: acked,
    failed: 0,
    duplicated: 0,
    measuredMs,
    eventsPerSec: Math.round((acked / measuredMs) * 1000),
    p50Ms: 4,
    p99Ms: 9,
    serverCpuSec: (acked * cpuUs) / 1e6,
    bystanderCpuSec: 0,
    cpuUsPerEvent: cpuUs,
    userSysUsPerEventByProcess: [[cpuUs - 20, 20]],
    cpuUsPerEventByProcess: [cpuUs],
    rssMiB: 90,
    generatorCpuUsPerEvent: 30,
    generatorUserSysUsPerEvent: [15, 15],
    generatorCpuPct: 20,
    presigned: 30_000,
    presignedRanOut: false,
    ...extra,
  };
}

describe('combineSlices (bench/slices.ts)', () => {
  it('gives what one run of the same events in the same time would: totals, and per-event figures over the totals', () => {
    // A quick slice and a longer one in a slow spell of the host: 12 000 events at 150 µs, 6 000 at 300 µs.
    const r = combineSlices([slice(12_000, 2_000, 150, { bystanderCpuSec: 0.036 }), slice(6_000, 3_000, 300, { rssMiB: 95, failed: 1 })]);
    expect(r).toMatchObject({
      acked: 18_000,
      delivered: 18_000,
      failed: 1,
      measuredMs: 5_000,
      eventsPerSec: 3_600, // 18 000 in 5 s, not the mean of the slices' 6 000 and 2 000
      cpuUsPerEvent: 200, // (12 000 × 150 + 6 000 × 300) / 18 000, not the mean of the slices' 225
      userSysUsPerEventByProcess: [[180, 20]],
      cpuUsPerEventByProcess: [200],
      rssMiB: 95, // after the last slice
      bystanderCpuShare: 0.01, // the idle servers' 0.036 s over this one's 3.6 s
      slices: 2,
      sliceEventsPerSec: [6_000, 2_000],
    });
  });

  it.each([
    ['one slice', [9], 9],
    ['the median of an odd count', [12, 3, 9], 9],
    ['the mean of the middle two of an even count', [3, 12, 9, 5], 7],
  ])('takes latency percentiles as the median of the slices’: %s', (_, p99s, expected) => {
    expect(combineSlices(p99s.map((p99Ms) => slice(1_000, 1_000, 100, { p99Ms }))).p99Ms).toBe(expected);
  });

  it('sums Redis counters and keeps no port', () => {
    const redis = (commands: number) => ({ port: 6379, role: 'master', commands, scripts: commands / 10, cpuSec: 0.5 });
    const r = combineSlices([slice(1_000, 1_000, 100, { redis: redis(13_000) }), slice(1_000, 1_000, 100, { redis: redis(12_000) })]);
    expect(r.redis).toEqual({ commands: 25_000, scripts: 2_500, cpuSec: 1 });
  });

  it('refuses no slices rather than print zeros', () => {
    expect(() => combineSlices([])).toThrow(/no slices/);
  });
});

describe('sliceOrder (bench/slices.ts)', () => {
  it.each([
    [['c', 'e'], 1, ['c', 'e']],
    [['c', 'e', 's'], 2, ['c', 'e', 's', 's', 'e', 'c']],
    [['c', 'e'], 3, ['c', 'e', 'e', 'c', 'c', 'e']],
  ])('%j over %i passes: %j (every other pass reversed)', (kinds, passes, expected) => {
    expect(sliceOrder(kinds, passes)).toEqual(expected);
  });
});
