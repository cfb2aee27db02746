/**
 * Paired CPU per frame for fan-out work on a shared machine: one fan-out case (B by default: 2 000 raw clients on one
 * gateway, 50 events/s) run alternately against the references (the floor: one `socket.write` per frame, bench/ceiling.ts
 * FANOUT_WRITE=socket) and against each checkout given, ROUNDS times, so that every figure has its neighbours from the
 * same minutes. Prints one line per run and the medians of sender CPU µs/frame (user / system).
 *
 *   node --import tsx bench/fanout-pair.ts /work/main /work/wt-fan     ROUNDS=3 DURATION_MS=5000 CASE=B|A RATE=… REFS=socket,fd,send
 *
 * Servers on core 0, the generator (bench/fanout.ts) on core 1, as in `pnpm bench fanout`.
 */
import { freePort, processGroup, runLoadOnCore1, ROOT } from './processes.ts';

const roots = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 3);
const fanCase = process.env.CASE ?? 'B';
const refs = (process.env.REFS ?? 'socket').split(',').filter(Boolean);
const clients = fanCase === 'A' ? 200 : 2000;
const rate = Number(process.env.RATE ?? (fanCase === 'A' ? 500 : 50));
const gatewayCount = fanCase === 'A' ? 2 : 1;
const SECRET = 'BenchSecret0123456789';
type Figures = Record<string, number | boolean>;

async function runRef(write: string): Promise<Figures> {
  const group = processGroup();
  try {
    const { url, pid } = await group.start('bench/ceiling.ts', { FANOUT_WRITE: write });
    return load(url, [url], [pid], [pid]);
  } finally {
    await group.stop();
  }
}

async function runHookway(root: string): Promise<Figures> {
  const group = processGroup();
  try {
    const redisPort = await freePort();
    group.launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    const ingress = await group.start('apps/ingress/src/main.ts', env, { cwd: root });
    const gateways = await Promise.all(
      Array.from({ length: gatewayCount }, () => group.start('apps/gateway/src/main.ts', env, { cwd: root })),
    );
    return load(
      ingress.url,
      gateways.map((g) => g.url),
      group.pids(),
      gateways.map((g) => g.pid),
    );
  } finally {
    await group.stop();
  }
}

function load(target: string, wsTargets: string[], pids: number[], framePids: number[]): Figures {
  return runLoadOnCore1<Figures>('bench/fanout.ts', {
    SECRET,
    DURATION_MS: process.env.DURATION_MS ?? '5000',
    TARGET: target,
    WS_TARGETS: wsTargets.join(','),
    SERVER_PIDS: pids.join(','),
    FRAME_PIDS: framePids.join(','),
    CLIENTS: String(clients),
    RATE: String(rate),
  });
}

const results = new Map<string, Figures[]>();
const names = [...refs.map((r) => `floor:${r}`), ...roots];
for (let round = 1; round <= rounds; round++) {
  for (const name of names) {
    const r = name.startsWith('floor:') ? await runRef(name.slice(6)) : await runHookway(name);
    (results.get(name) ?? results.set(name, []).get(name)!).push(r);
    const ok =
      r.delivered === r.expectedDeliveries && !r.eventsShort ? 'all' : `MISSING ${Number(r.expectedDeliveries) - Number(r.delivered)}`;
    process.stdout.write(
      `round ${round} ${name.padEnd(24)} ${ok} µs/frame ${r.cpuUsPerFrame} (user ${r.userUsPerFrame} / sys ${r.systemUsPerFrame}), ` +
        `${r.framesPerWrite} frames/write, ` +
        `p50/p99 ${r.p50Ms}/${r.p99Ms} ms, generator ${r.generatorCpuPct} % (${r.generatorCpuUsPerFrame} µs/frame)\n`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`\ncase ${fanCase} (${clients} clients, ${rate}/s), medians of ${rounds}; harness ${ROOT}\n`);
for (const [name, rs] of results) {
  const m = (f: string) => median(rs.map((r) => Number(r[f])));
  process.stdout.write(
    `${name.padEnd(24)} µs/frame ${m('cpuUsPerFrame')} (user ${m('userUsPerFrame')} / sys ${m('systemUsPerFrame')}), ${m('framesPerWrite')} frames/write, p99 ${m('p99Ms')} ms\n`,
  );
}
