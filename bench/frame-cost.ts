/**
 * Server CPU per WebSocket frame sent (issue 11, "frame once"). The embedded relay runs in this process; a child
 * process connects N raw clients to one bot and posts E signed events (IN_FLIGHT at a time, 8 by default; with 1 no
 * two events can share a socket write, which shows the cost of a lone frame), and waits until every client
 * has every event. The server's `process.cpuUsage()` delta for that (user + system), minus the same run with no
 * clients (verification, dedup, history: the per-event cost), divided by the frames delivered, is the CPU one frame
 * costs. Each round uses a bot of its own, so no client is handed an earlier round's events.
 *
 *   node --import tsx bench/frame-cost.ts            CLIENTS=200,2000 EVENTS=300 ROUNDS=3 IN_FLIGHT=8
 *
 * CPU time survives a busy machine far better than throughput; still, take the median of the rounds.
 */
import { Agent } from 'node:http';
import WebSocket from 'ws';
import { ask, forkLoad, serveCommands, startRelayHere } from './in-process-relay.ts';
import { postSignedEvent } from './post.ts';

const script = new URL(import.meta.url).pathname;

if (process.argv.includes('--load')) {
  const target = new URL(process.env.TARGET!);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let clients: WebSocket[] = [];
  let received = 0;
  let onReceived = () => {};
  serveCommands(async (command) => {
    const secret = command.secret as string;
    if (command.connect !== undefined) {
      received = 0;
      clients = await Promise.all(
        Array.from({ length: command.connect as number }, () => {
          const ws = new WebSocket(`ws://${target.host}/ws?secret=${secret}`, { perMessageDeflate: false });
          ws.on('message', () => {
            received++;
            onReceived();
          });
          return new Promise<WebSocket>((resolve, reject) => {
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          });
        }),
      );
      return { connected: clients.length };
    }
    if (command.post !== undefined) {
      const events = command.post as number;
      const expected = events * clients.length;
      const all = new Promise<void>((resolve) => {
        onReceived = () => received >= expected && resolve();
        onReceived();
      });
      let next = 0;
      let failed = 0;
      const worker = async () => {
        while (next < events) {
          const id = `GROUP_AT_MESSAGE_CREATE:cost${process.pid}${secret}n${next++}`;
          if ((await postSignedEvent(target, agent, secret, id, () => {})) !== 200) failed++;
        }
      };
      await Promise.all(Array.from({ length: command.inFlight as number }, worker));
      await all;
      return { received, failed };
    }
    if (command.disconnect !== undefined) {
      await Promise.all(clients.map((ws) => new Promise((r) => (ws.once('close', r), ws.close()))));
      clients = [];
      return {};
    }
    return {};
  });
} else {
  const counts = (process.env.CLIENTS ?? '200,2000').split(',').map(Number);
  const events = Number(process.env.EVENTS ?? 300);
  const rounds = Number(process.env.ROUNDS ?? 3);
  const inFlight = Number(process.env.IN_FLIGHT ?? 8);
  const url = await startRelayHere();
  const load = forkLoad(script, { TARGET: url });
  let botNo = 0;

  /** Server CPU µs (user + system) to take `events` events to `clients` clients; `system` collects the kernel's share. */
  const systemUs: Record<number, number[]> = {};
  async function cpuFor(clients: number): Promise<number> {
    const secret = `FrameCostSecret${process.pid}x${++botNo}`;
    await ask(load, { connect: clients, secret });
    await new Promise((r) => setTimeout(r, 200));
    const before = process.cpuUsage();
    const result = await ask<{ received: number; failed: number }>(load, { post: events, secret, inFlight });
    const used = process.cpuUsage(before);
    if (result.failed > 0) throw new Error(`${result.failed} webhooks failed`);
    await ask(load, { disconnect: true });
    (systemUs[clients] ??= []).push(used.system);
    return used.user + used.system;
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const perFrame: Record<number, number[]> = Object.fromEntries(counts.map((n) => [n, []]));
  const baselines: number[] = [];
  await cpuFor(0); // warm-up: JIT, pools
  await cpuFor(counts[0]!);
  for (let round = 0; round < rounds; round++) {
    const baseline = await cpuFor(0);
    baselines.push(baseline / events);
    for (const n of counts) perFrame[n]!.push((await cpuFor(n)) - baseline);
  }
  const summary = {
    events,
    inFlight,
    rounds,
    baselineUsPerEvent: Number(median(baselines).toFixed(1)),
    ...Object.fromEntries(counts.map((n) => [`usPerFrame@${n}`, Number((median(perFrame[n]!) / (events * n)).toFixed(2))])),
    systemShare: Object.fromEntries(
      counts.map((n) => [n, Number(((median(systemUs[n]!) - median(systemUs[0]!)) / (median(perFrame[n]!) || 1)).toFixed(2))]),
    ),
    runsUsPerFrame: Object.fromEntries(counts.map((n) => [n, perFrame[n]!.map((cpu) => Number((cpu / (events * n)).toFixed(2)))])),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  load.kill();
  process.exit(0);
}
