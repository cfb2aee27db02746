/**
 * Server-side figures read from /proc by the load generators (same machine): CPU seconds of a set of processes (all
 * their threads: user + system) and their resident memory. CPU time survives a noisy machine far better than
 * throughput, so the per-event and per-frame costs are computed from it.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_SEC = 100;

export const pidsFromEnv = (name: string): number[] =>
  (process.env[name] ?? '')
    .split(',')
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);

/** utime + stime of every process in `pids`, in seconds (a process that is gone counts 0). */
export function cpuSecOf(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone.
    }
  }
  return ticks / TICKS_PER_SEC;
}

/** [user, system] CPU seconds of one process (all its threads). */
export function cpuSplitOf(pid: number): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[11]) / TICKS_PER_SEC, Number(fields[12]) / TICKS_PER_SEC];
  } catch {
    return [0, 0];
  }
}

/** VmRSS of every process in `pids`, in bytes. */
export function rssBytesOf(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone.
    }
  }
  return kib * 1024;
}

/** The p-th percentile of an ascending array (NaN when empty), rounded to 0.01. */
export function percentile(sorted: readonly number[], p: number): number {
  const x = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return x === undefined ? NaN : Number(x.toFixed(2));
}

/** The event id inside a frame's bytes (`"id":"…"`, the first one: the body's top-level id comes first). */
export function idOfFrame(data: Buffer): string {
  const at = data.indexOf('"id":"');
  if (at < 0) return '';
  const start = at + 6;
  const end = data.indexOf(34, start);
  return data.toString('latin1', start, end);
}
