/**
 * S1's closed loops run in interleaved slices (bench/run.ts): every server under comparison is started at once, all
 * pinned to core 0 and idle but for the one being loaded, and bench/load.ts is run against each in turn for SLICE_MS,
 * several passes, the order reversed on every other pass (ceiling, embedded, split, split, embedded, ceiling, …).
 *
 * Why: this host has spells of a few seconds in which every process on it, the ceiling included, takes 1.5–1.9×
 * the CPU per event — user and system time alike, with the same system calls and page faults per event, while a
 * register-only spin loop keeps its speed (docs/benchmarks.md, "issue 11 ninth pass"). One 13 s run per server, one
 * after the other, put the ceiling and Hookway in different spells often enough to move a round's ratio from 0.9× to
 * 0.55×; with five short slices each, a few seconds apart, each server meets about its share of the spells.
 *
 * This module combines one server's slices into the figures one long run would have given.
 */
import { median } from './proc-stats.ts';

/** One bench/load.ts JSON line (the fields combined here; others are dropped). */
export interface ClosedLoopFigures {
  readonly acked: number;
  readonly delivered: number;
  readonly failed: number;
  readonly duplicated: number;
  readonly measuredMs: number;
  readonly eventsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly serverCpuSec: number;
  /** The other servers' CPU seconds in the measured window (bench/load.ts BYSTANDER_PIDS). */
  readonly bystanderCpuSec: number;
  readonly cpuUsPerEvent: number;
  readonly userSysUsPerEventByProcess: readonly (readonly number[])[];
  readonly cpuUsPerEventByProcess: readonly number[];
  readonly rssMiB: number;
  readonly redis?: Readonly<Record<string, number | string>>;
  readonly generatorCpuUsPerEvent: number;
  readonly generatorUserSysUsPerEvent: readonly number[];
  readonly generatorCpuPct: number;
  readonly presigned: number;
  readonly presignedRanOut: boolean;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** Per-event figures weighted by each slice's acknowledged events: the total over the total. */
function weighted(slices: readonly ClosedLoopFigures[], value: (s: ClosedLoopFigures) => number, digits = 0): number {
  const acked = sum(slices.map((s) => s.acked));
  if (acked === 0) return NaN;
  return Number((sum(slices.map((s) => value(s) * s.acked)) / acked).toFixed(digits));
}

/**
 * One server's slices as one run: counts and times summed, per-event figures over the totals, RSS after the last
 * slice, and latency percentiles as the median of the slices' (a closed loop's latency is its queue, the same in
 * every slice; it is not a target). `sliceEventsPerSec` keeps each slice's throughput for the record.
 */
export function combineSlices(slices: readonly ClosedLoopFigures[]): ClosedLoopFigures & {
  /** The idle servers' CPU in the measured windows over this server's (~0: they did not take its core). */
  readonly bystanderCpuShare: number;
  readonly slices: number;
  readonly sliceEventsPerSec: readonly number[];
} {
  if (slices.length === 0) throw new Error('combineSlices: no slices');
  const acked = sum(slices.map((s) => s.acked));
  const delivered = sum(slices.map((s) => s.delivered));
  const measuredMs = sum(slices.map((s) => s.measuredMs));
  const serverCpuSec = sum(slices.map((s) => s.serverCpuSec));
  const bystanderCpuSec = sum(slices.map((s) => s.bystanderCpuSec));
  const processes = slices[0]!.cpuUsPerEventByProcess.length;
  const redisSlices = slices.map((s) => s.redis).filter((r) => r !== undefined);
  const redis =
    redisSlices.length === 0
      ? undefined
      : Object.fromEntries(
          Object.keys(redisSlices[0]!)
            .filter((k) => typeof redisSlices[0]![k] === 'number' && k !== 'port')
            .map((k) => [k, Number(sum(redisSlices.map((r) => Number(r[k]))).toFixed(3))]),
        );
  return {
    acked,
    delivered,
    failed: sum(slices.map((s) => s.failed)),
    duplicated: sum(slices.map((s) => s.duplicated)),
    measuredMs,
    eventsPerSec: measuredMs > 0 ? Math.round((delivered / measuredMs) * 1000) : NaN,
    p50Ms: median(slices.map((s) => s.p50Ms)),
    p99Ms: median(slices.map((s) => s.p99Ms)),
    serverCpuSec: Number(serverCpuSec.toFixed(2)),
    bystanderCpuSec: Number(bystanderCpuSec.toFixed(3)),
    cpuUsPerEvent: acked > 0 ? Math.round((serverCpuSec * 1e6) / acked) : NaN,
    userSysUsPerEventByProcess: Array.from({ length: processes }, (_, p) =>
      [0, 1].map((k) => weighted(slices, (s) => s.userSysUsPerEventByProcess[p]![k]!)),
    ),
    cpuUsPerEventByProcess: Array.from({ length: processes }, (_, p) => weighted(slices, (s) => s.cpuUsPerEventByProcess[p]!)),
    rssMiB: slices.at(-1)!.rssMiB,
    ...(redis === undefined ? {} : { redis }),
    generatorCpuUsPerEvent: weighted(slices, (s) => s.generatorCpuUsPerEvent, 1),
    generatorUserSysUsPerEvent: [0, 1].map((k) => weighted(slices, (s) => s.generatorUserSysUsPerEvent[k]!, 1)),
    generatorCpuPct: measuredMs > 0 ? Math.round(sum(slices.map((s) => s.generatorCpuPct * s.measuredMs)) / measuredMs) : NaN,
    presigned: sum(slices.map((s) => s.presigned)),
    presignedRanOut: slices.some((s) => s.presignedRanOut),
    bystanderCpuShare: serverCpuSec > 0 ? Number((bystanderCpuSec / serverCpuSec).toFixed(4)) : NaN,
    slices: slices.length,
    sliceEventsPerSec: slices.map((s) => s.eventsPerSec),
  };
}

/**
 * The order of the slices: `passes` passes over `kinds`, every other pass reversed, so that a drift of the host over
 * the run falls on every server alike (a linear one cancels out over two passes).
 */
export function sliceOrder<K>(kinds: readonly K[], passes: number): K[] {
  return Array.from({ length: passes }, (_, p) => (p % 2 === 0 ? kinds : [...kinds].reverse())).flat();
}
