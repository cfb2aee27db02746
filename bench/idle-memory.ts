/**
 * Memory per idle raw connection (issue 11, target 3: ≤ 8 KiB). The embedded relay runs in this process; a child
 * process opens N raw clients to one bot and holds them idle. After a full GC before and after, the deltas of
 * `heapUsed` and RSS divided by N are what one connection costs the server (RSS: the first round, in a fresh process;
 * later rounds reuse freed pages and show heap only). Unlike the bench's `idle` scenario it does not count V8's young
 * generation growing under the connection storm: tsx's start-up in this process has grown it already (4 → 32 MiB)
 * before the baseline is read (docs/benchmarks.md, "Idle connections: why the bench and bench/idle-memory.ts differ").
 *
 *   node --import tsx bench/idle-memory.ts           CLIENTS=2000 ROUNDS=2
 *   HEAP_SNAPSHOT=/tmp/idle.heapsnapshot …           also writes a heap snapshot with the clients connected
 */
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { ask, forkLoad, serveCommands, startRelayHere } from './in-process-relay.ts';

const script = new URL(import.meta.url).pathname;

if (process.argv.includes('--load')) {
  const target = new URL(process.env.TARGET!);
  let clients: WebSocket[] = [];
  serveCommands(async (command) => {
    if (command.connect !== undefined) {
      const secret = command.secret as string;
      for (let i = 0; i < (command.connect as number); i += 100) {
        const batch = Array.from({ length: Math.min(100, (command.connect as number) - i) }, () => {
          const ws = new WebSocket(`ws://${target.host}/ws?secret=${secret}`, { perMessageDeflate: false });
          return new Promise<WebSocket>((resolve, reject) => {
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          });
        });
        clients.push(...(await Promise.all(batch)));
      }
      return { connected: clients.length };
    }
    if (command.disconnect !== undefined) {
      await Promise.all(clients.map((ws) => new Promise((r) => (ws.once('close', r), ws.close()))));
      clients = [];
    }
    return {};
  });
} else {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const count = Number(process.env.CLIENTS ?? 2000);
  const rounds = Number(process.env.ROUNDS ?? 2);
  const url = await startRelayHere();
  const load = forkLoad(script, { TARGET: url });
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      gc();
    }
    return process.memoryUsage();
  };
  const results: { heapKiB: number; heapTotalKiB: number; rssKiB: number; externalKiB: number }[] = [];
  // Warm-up with a few clients (first-time allocations, pools, code), so the rounds measure connections only.
  await ask(load, { connect: 20, secret: `IdleMemorySecret${process.pid}warm` });
  await ask(load, { disconnect: true });
  for (let round = 1; round <= rounds; round++) {
    const secret = `IdleMemorySecret${process.pid}x${round}`;
    const before = await settle();
    await ask(load, { connect: count, secret });
    const after = await settle();
    if (round === rounds && process.env.HEAP_SNAPSHOT) writeHeapSnapshot(process.env.HEAP_SNAPSHOT);
    const per = (a: number, b: number) => Number(((a - b) / count / 1024).toFixed(2));
    // RSS is meaningful in round 1 only: later rounds reuse the pages the previous round's connections freed.
    results.push({
      heapKiB: per(after.heapUsed, before.heapUsed),
      heapTotalKiB: per(after.heapTotal, before.heapTotal),
      rssKiB: per(after.rss, before.rss),
      externalKiB: per(after.external + after.arrayBuffers, before.external + before.arrayBuffers),
    });
    await ask(load, { disconnect: true });
  }
  process.stdout.write(`${JSON.stringify({ clients: count, perConnection: results })}\n`);
  load.kill();
  process.exit(0);
}
