/**
 * Which objects an idle raw connection keeps in the server's V8 heap: heap snapshots (bench/heap-snapshot-probe.mjs)
 * of the built file, started as the bench starts it, after one event and again once CLIENTS raw clients have connected
 * (in batches of 100, as bench/idle-conns.ts does); the difference of each kind of object's bytes and count, divided
 * by CLIENTS. Exact where RSS is not: the bench's RSS delta moves by ±0.25 KiB per connection from run to run with
 * the old space's page count, which hides a change of a few hundred bytes per connection.
 *
 *   node --import tsx bench/idle-heap-diff.ts                      CLIENTS=1000; BENCH_NODE_FLAGS / BENCH_NODE_ENV as for pnpm bench
 *
 * Prints one line per kind (`type:constructor`) of at least 4 bytes per connection, then the total. `code` is the
 * compiled code the connections' path had optimised (once per process), `synthetic:Node / TCPSocketWrap` node's
 * own estimate of its C++ socket (outside the V8 heap).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIdleRawClients } from './idle-clients.ts';
import { postSignedEvent } from './post.ts';
import { pollUntil } from './proc-stats.ts';
import { processGroup, ROOT } from './processes.ts';

const clientCount = Number(process.env.CLIENTS ?? 1000);
const secret = 'BenchSecret0123456789';
const dir = mkdtempSync(join(tmpdir(), 'hookway-heap-'));

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes and count of each kind of object in a snapshot (strings and code by type only). */
function byKind(file: string): Map<string, { count: number; bytes: number }> {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const [types] = snapshot.meta.node_types;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]!]!;
    const named = !type.includes('string') && type !== 'code';
    const kind = named ? `${type}:${strings[nodes[i + nameAt]!]!.slice(0, 60)}` : type;
    const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt]!;
    kinds.set(kind, entry);
  }
  return kinds;
}

const group = processGroup();
try {
  const { url, pid } = await group.start(
    'apps/relay/src/main.ts',
    { HEAP_SNAPSHOT_DIR: dir },
    { nodeFlags: ['--import', `${ROOT}bench/heap-snapshot-probe.mjs`] },
  );
  let taken = 0;
  const snapshot = async (): Promise<string> => {
    const n = taken++;
    process.kill(pid, 'SIGUSR2');
    await pollUntil(() => existsSync(join(dir, `${n}.done`)), 120_000);
    return join(dir, `${n}.heapsnapshot`);
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  // One event first, as the bench's idle scenario does: the bot and its feed exist before the first snapshot.
  await postSignedEvent(new URL(url), agent, secret, `GROUP_AT_MESSAGE_CREATE:heapdiff${process.pid}`, () => undefined);
  agent.destroy();
  const before = await snapshot();
  const clients = await openIdleRawClients(url.replace('http', 'ws'), secret, clientCount);
  const after = await snapshot();
  for (const ws of clients) ws.terminate();
  const [a, b] = [byKind(before), byKind(after)];
  const rows = [...b]
    .map(([kind, { count, bytes }]) => {
      const old = a.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, count: (count - old.count) / clientCount, bytes: (bytes - old.bytes) / clientCount };
    })
    .filter((r) => Math.abs(r.bytes) >= 4)
    .sort((x, y) => y.bytes - x.bytes);
  for (const r of rows) process.stdout.write(`${r.bytes.toFixed(0).padStart(6)} B  ${r.count.toFixed(2).padStart(5)} ×  ${r.kind}\n`);
  process.stdout.write(
    `${rows
      .reduce((sum, r) => sum + r.bytes, 0)
      .toFixed(0)
      .padStart(6)} B per connection in all (${clientCount} clients)\n`,
  );
} finally {
  await group.stop();
  rmSync(dir, { recursive: true, force: true });
}
