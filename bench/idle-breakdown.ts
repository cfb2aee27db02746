/**
 * Where an idle connection's RSS goes, as the bench's `idle` scenario measures it (the built file with the production
 * node options and environment, on core 0; CLIENTS raw clients in batches of 100; no GC): the server's RSS before and
 * after, split by mapping (/proc/<pid>/smaps: the node binary's text pages, glibc's per-thread malloc arenas — 64 MiB
 * aligned anonymous mappings —, the brk heap, V8's pages) and by V8 heap space (bench/heap-spaces-probe.mjs). Then,
 * with the first clients still connected, as many again: what one more connection costs once the one-time costs of a
 * fresh process (code first executed, compiler memory, the young generation growing) are paid.
 *
 *   node --import tsx bench/idle-breakdown.ts                       CLIENTS=2000; BENCH_NODE_FLAGS / BENCH_NODE_ENV as for pnpm bench
 *
 * docs/benchmarks.md, "Idle connections: where the RSS goes", has its figures.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { openIdleRawClients } from './idle-clients.ts';
import { processGroup, ROOT } from './processes.ts';
import { rssBytesOf } from './proc-stats.ts';

const clientCount = Number(process.env.CLIENTS ?? 2000);
const settleMs = Number(process.env.SETTLE_MS ?? 2000);
const spacesFile = join(tmpdir(), `hookway-heap-spaces-${process.pid}.jsonl`);
const secret = 'BenchSecret0123456789';

const group = processGroup();
const { url, pid } = await group.start(
  'apps/relay/src/main.ts',
  { HEAP_SPACES_OUT: spacesFile },
  { nodeFlags: ['--import', `${ROOT}bench/heap-spaces-probe.mjs`] },
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident KiB by kind of mapping. */
function mappings(): Record<string, number> {
  const kib: Record<string, number> = {};
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      const [, start, perms, name] = header as unknown as [string, string, string, string];
      const arena = name === '' && /000000$/.test(start) && Number.parseInt(start, 16) % 2 ** 26 === 0;
      kind = name !== '' ? `${name} ${perms}` : arena ? 'malloc arenas of other threads' : `anonymous ${perms}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+)/.exec(line);
    if (rss) kib[kind] = (kib[kind] ?? 0) + Number(rss[1]);
  }
  return kib;
}

async function heapSpaces(): Promise<Record<string, { physicalBytes: number; usedBytes: number }>> {
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  const lines = readFileSync(spacesFile, 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1)!) as Record<string, { physicalBytes: number; usedBytes: number }>;
}

async function connect(count: number): Promise<WebSocket[]> {
  const opened = await openIdleRawClients(url.replace('http', 'ws'), secret, count);
  await sleep(settleMs);
  return opened;
}

const perConnection = (bytes: number) => Number((bytes / 1024 / clientCount).toFixed(2));

try {
  await sleep(settleMs);
  const rssBefore = rssBytesOf([pid]);
  const mapsBefore = mappings();
  const spacesBefore = await heapSpaces();
  const clients = await connect(clientCount);
  const rssAfter = rssBytesOf([pid]);
  const mapsAfter = mappings();
  const spacesAfter = await heapSpaces();
  const byMapping = Object.fromEntries(
    Object.keys({ ...mapsBefore, ...mapsAfter })
      .map((k) => [k, perConnection(((mapsAfter[k] ?? 0) - (mapsBefore[k] ?? 0)) * 1024)] as const)
      .filter(([, v]) => Math.abs(v) >= 0.05),
  );
  const byHeapSpace = Object.fromEntries(
    Object.keys(spacesAfter)
      .map((k) => {
        const [a, b] = [spacesBefore[k]!, spacesAfter[k]!];
        return [k, { physical: perConnection(b.physicalBytes - a.physicalBytes), used: perConnection(b.usedBytes - a.usedBytes) }] as const;
      })
      .filter(([, v]) => Math.abs(v.physical) >= 0.05 || Math.abs(v.used) >= 0.05),
  );
  clients.push(...(await connect(clientCount)));
  const rssSecond = rssBytesOf([pid]);
  for (const ws of clients) ws.terminate();
  process.stdout.write(
    `${JSON.stringify({
      clients: clientCount,
      kibPerConnection: perConnection(rssAfter - rssBefore),
      byMapping,
      byHeapSpace,
      kibPerConnectionOfAsManyMore: perConnection(rssSecond - rssAfter),
    })}\n`,
  );
} finally {
  await group.stop();
  rmSync(spacesFile, { force: true });
}
