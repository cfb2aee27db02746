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

/**
 * write-family system calls made by every process in `pids` (`syscw` of /proc/<pid>/io: write, writev…): divided by
 * the frames sent, how many frames one socket write carried. NaN when /proc/<pid>/io cannot be read.
 */
export function writeCallsOf(pids: readonly number[]): number {
  let calls = 0;
  for (const pid of pids) {
    try {
      calls += Number(/^syscw:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
    } catch {
      return NaN;
    }
  }
  return calls;
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

/** Resolves once `done` holds, or after `withinMs` (the caller checks which); polls every 20 ms. */
export async function pollUntil(done: () => boolean, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** The median of the finite values (the mean of the middle two for an even count; NaN when there are none). */
export function median(xs: readonly number[]): number {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile of an ascending array (NaN when empty), rounded to 0.01. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
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

/**
 * The number N of an event whose top-level id is `<idPrefix>N` in the frame `buf[start..end)`, by a byte scan (no
 * string, no JSON): -1 when the frame holds no such id. `needle` is `idNeedle(idPrefix)`.
 */
export function eventNumberIn(buf: Buffer, start: number, end: number, needle: Buffer): number {
  const at = buf.indexOf(needle, start);
  if (at < 0) return -1;
  let i = at + needle.length;
  let n = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
  }
  // The id must end right after its digits (`"`), inside this frame.
  return digits > 0 && digits < 16 && i < end && buf[i] === 34 ? n : -1;
}

/** What `eventNumberIn` looks for: `"id":"<idPrefix>`. */
export const idNeedle = (idPrefix: string): Buffer => Buffer.from(`"id":"${idPrefix}`, 'latin1');
