/**
 * `pnpm bench [scenario…]`: Hookway against the bare ceiling (bench/ceiling.ts), in alternating rounds, every figure
 * beside the ceiling's of the SAME round (these machines are noisy). Servers (Redis included) run on core 0 and the
 * load generators on core 1 (taskset), except the every-core scenario's relay, which gets both cores.
 *
 * Scenarios (default: all but scale; `pnpm bench all` adds scale):
 *   s1      one bot, one raw client: events/s at 32 in flight, p50/p99 at 500/s and 2 000/s, RSS, CPU µs/event —
 *           ceiling, embedded, split (ingress + gateway + Redis on core 0), all started at once: their closed loops
 *           run in interleaved slices (bench/slices.ts), then the 500/s runs of each, then the 2 000/s runs; the bare
 *           split (bench/split-floor.ts: the three hops with nothing of a relay's work) joins the closed-loop slices
 *   cores   the embedded relay unpinned (both cores) vs pinned (core 0), 32 in flight (with s1: in the same slices)
 *   fanout  A: 200 clients on 2 gateways at 500 events/s; B: 2 000 clients on one gateway at 50 events/s; each also
 *           against the floor (bench/ceiling.ts FANOUT_WRITE=socket: one socket.write of a prebuilt frame per client)
 *   ack     2 000 clients on one bot on one embedded process, ACK_RATE (20) events/s: webhook ack latency
 *   idle    KiB of server RSS per idle raw connection (2 000 clients)
 *   scale   bench/scale.ts (1 000 bots, one Redis vs a 3-shard cluster); once, not per round
 *
 * Settings: BENCH_ROUNDS (3), DURATION_MS (10 000: closed loop, fan-out, ack), RATE_DURATION_MS (5 000: the fixed-rate
 * S1 runs), WARMUP_MS (3 000: unmeasured load before each closed-loop, fan-out and ack run, at the run's own rate or
 * concurrency, so that fresh servers are measured in their steady state — code compiled, buffers grown; the fixed-rate
 * S1 runs follow the closed loop on the same servers), SLICE_MS (2 000: one closed-loop slice; DURATION_MS ÷ SLICE_MS
 * slices per server), SLICE_WARMUP_MS (500: before each later slice), ACK_RATE (20), HOOKWAY_ROOT
 * (another checkout whose servers to start; the harness stays this one).
 * BENCH_START: dist (default; the built file, built once per run from the server checkout) or tsx (pnpm start's way).
 * BENCH_NODE_FLAGS: the built file's node options (default: the production recipes', scripts/node-flags.ts; empty: none).
 * BENCH_NODE_ENV: the built file's extra environment, `NAME=value …` (default: the production recipes', scripts/node-flags.ts;
 * empty: none).
 * Any missing delivery, failed or unanswered POST of Hookway's prints a `MISSING:` line and the run exits 1. The
 * references' (the ceiling's and the floor's) print a `REFERENCE SHORT:` line, listed again under the summary, but
 * do not fail the run: they measure the machine, not Hookway (the ceiling's naive fan-out B collapses on a slow
 * spell by design, one synchronous write per client per event), and a failing exit should mean Hookway lost something.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import {
  describeCheckout,
  describeStart,
  freePort,
  hasTaskset,
  processGroup,
  ROOT,
  runLoadOnCore1,
  SERVER_ROOT,
  splitRole,
} from './processes.ts';
import { median } from './proc-stats.ts';
import { runScale } from './scale.ts';
import { combineSlices, sliceOrder, type ClosedLoopFigures } from './slices.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_MS = Number(process.env.DURATION_MS ?? 10_000);
const RATE_DURATION_MS = Number(process.env.RATE_DURATION_MS ?? Math.min(DURATION_MS, 5_000));
const ACK_RATE = Number(process.env.ACK_RATE ?? 20);
const WARMUP_MS = String(Number(process.env.WARMUP_MS ?? 3_000));
const SLICE_MS = Number(process.env.SLICE_MS ?? 2_000);
const SLICE_WARMUP_MS = String(Number(process.env.SLICE_WARMUP_MS ?? 500));
const SECRET = 'BenchSecret0123456789';

const ROUND_SCENARIOS = ['s1', 'cores', 'fanout', 'ack', 'idle'] as const;
type RoundScenario = (typeof ROUND_SCENARIOS)[number];

/** One load generator's JSON line. */
type Figures = Record<string, number | boolean>;
/** One round: results by name (`s1.embedded.closed`, `fanoutA.ceiling`, …). */
type Round = Record<string, Figures>;

/**
 * floor: the ceiling writing a prebuilt frame with one `socket.write` per client (bench/ceiling.ts FANOUT_WRITE=socket).
 * split-floor: the bare split (bench/split-floor.ts: verify + PUBLISH, subscriber + ws.send, Redis; all on core 0).
 */
type Kind = 'ceiling' | 'floor' | 'split-floor' | 'embedded' | 'embedded-unpinned' | 'split' | 'split2';

interface Topology {
  /** Where webhooks go. */
  readonly target: string;
  /** Where clients connect. */
  readonly wsTargets: string[];
  /** Every server-side process (Redis included). */
  readonly pids: number[];
  /** The processes that send the frames (the gateways in split mode). */
  readonly framePids: number[];
  /** Split mode: the Redis port (S1 reads its counters over the measured window). */
  readonly redisPort?: number;
  stop(): Promise<void>;
}

async function start(kind: Kind): Promise<Topology> {
  const group = processGroup();
  try {
    if (kind === 'ceiling' || kind === 'floor' || kind === 'embedded' || kind === 'embedded-unpinned') {
      const { url, pid } = await group.start(
        kind === 'ceiling' || kind === 'floor' ? 'bench/ceiling.ts' : 'apps/relay/src/main.ts',
        kind === 'floor' ? { FANOUT_WRITE: 'socket' } : {},
        { pinned: kind !== 'embedded-unpinned' },
      );
      return { target: url, wsTargets: [url], pids: [pid], framePids: [pid], stop: group.stop };
    }
    const redisPort = await freePort();
    group.launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    const bare = kind === 'split-floor';
    const ingress = await group.start(...splitRole('ingress', env, bare));
    const gateways = await Promise.all(
      Array.from({ length: kind === 'split2' ? 2 : 1 }, () => group.start(...splitRole('gateway', env, bare))),
    );
    return {
      target: ingress.url,
      wsTargets: gateways.map((g) => g.url),
      pids: group.pids(),
      framePids: gateways.map((g) => g.pid),
      redisPort,
      stop: group.stop,
    };
  } catch (err) {
    await group.stop();
    throw err;
  }
}

const missing: string[] = [];
/** The references' shortfalls: reported, never a failure of the run. */
const referenceShort: string[] = [];
/** The ceiling, the floor and the bare split (bench/ceiling.ts, bench/split-floor.ts), as opposed to Hookway's processes. */
const isReference = (name: string) => /\.(ceiling|floor|split-floor)(\.|$)/.test(name);

function load(script: string, topology: Topology, env: Record<string, string>): Figures {
  return runLoadOnCore1<Figures>(script, {
    SECRET,
    DURATION_MS: String(DURATION_MS),
    TARGET: topology.target,
    WS_TARGET: topology.wsTargets[0]!,
    WS_TARGETS: topology.wsTargets.join(','),
    SERVER_PIDS: topology.pids.join(','),
    FRAME_PIDS: topology.framePids.join(','),
    REDIS_PORT: String(topology.redisPort ?? 0),
    ...env,
  });
}

/** Prints the result, and a MISSING line when it lost, refused or left unanswered anything. */
function report(round: number, name: string, r: Figures): Figures {
  process.stdout.write(`  ${name.padEnd(26)} ${JSON.stringify(r)}\n`);
  const problems: string[] = [];
  if (r.failed) problems.push(`${r.failed} webhook POSTs failed`);
  if (r.unanswered) problems.push(`${r.unanswered} webhook POSTs never answered`);
  if (r.warmedUp === false) problems.push('the warm-up (its event to every client, then any WARMUP_MS load) was not all delivered');
  if ('expectedDeliveries' in r && r.delivered !== r.expectedDeliveries) {
    problems.push(`${Number(r.expectedDeliveries) - Number(r.delivered)} of ${r.expectedDeliveries} deliveries missing`);
  } else if (!('expectedDeliveries' in r) && r.delivered !== r.acked) {
    problems.push(`${Number(r.acked) - Number(r.delivered)} of ${r.acked} acknowledged events not delivered`);
  }
  if (r.eventsShort) problems.push(`${r.eventsShort} events not delivered exactly once to every client`);
  if (Number(r.generatorCpuPct) >= 90) {
    process.stdout.write(`  note: the load generator used ${r.generatorCpuPct} % of core 1: these latencies are partly its own\n`);
  }
  const reference = isReference(name);
  for (const p of problems) {
    const line = `${reference ? 'REFERENCE SHORT' : 'MISSING'}: round ${round} ${name}: ${p}`;
    (reference ? referenceShort : missing).push(line);
    process.stdout.write(`${line}\n`);
  }
  return r;
}

/** Several servers at once (each pinned as `start` pins it; idle but when loaded), stopped newest first. */
async function withTopologies<K extends Kind>(
  kinds: readonly K[],
  run: (topologies: Map<K, Topology>) => void | Promise<void>,
): Promise<void> {
  const started = new Map<K, Topology>();
  try {
    for (const kind of kinds) started.set(kind, await start(kind));
    await run(started);
  } finally {
    for (const topology of [...started.values()].reverse()) await topology.stop();
  }
}

const withTopology = (kind: Kind, run: (t: Topology) => void) => withTopologies([kind], (topologies) => run(topologies.get(kind)!));

/**
 * The closed loops of several servers, interleaved in slices of SLICE_MS (bench/slices.ts: why, and how the slices
 * are combined): first WARMUP_MS of unmeasured load on each in turn, then DURATION_MS of measuring each, every
 * slice after SLICE_WARMUP_MS (new connections; the server is warm). The idle servers' CPU during each slice's window
 * is read too (`bystanderCpuShare` in the result): without the warm-up pass, a server's first slice found the others
 * still busy with their own start (0.14–0.21 s of CPU in a 2 s window; later slices ≤ 0.05).
 */
function interleavedClosedLoops<K extends Kind>(topologies: Map<K, Topology>): Map<K, Figures> {
  const kinds = [...topologies.keys()];
  const slices = new Map(kinds.map((kind) => [kind, [] as ClosedLoopFigures[]]));
  const passes = Math.max(1, Math.round(DURATION_MS / SLICE_MS));
  for (const kind of kinds) load('bench/load.ts', topologies.get(kind)!, { WARMUP_MS: '0', DURATION_MS: WARMUP_MS });
  for (const kind of sliceOrder(kinds, passes)) {
    const done = slices.get(kind)!;
    const r = load('bench/load.ts', topologies.get(kind)!, {
      WARMUP_MS: SLICE_WARMUP_MS,
      DURATION_MS: String(SLICE_MS),
      BYSTANDER_PIDS: kinds
        .filter((k) => k !== kind)
        .flatMap((k) => topologies.get(k)!.pids)
        .join(','),
    }) as unknown as ClosedLoopFigures;
    done.push(r);
    process.stdout.write(
      `  slice ${kind} ${done.length}/${passes}: ${r.eventsPerSec} events/s, ${r.cpuUsPerEvent} µs/event, idle servers ${r.bystanderCpuSec} s of CPU\n`,
    );
  }
  return new Map(kinds.map((kind) => [kind, combineSlices(slices.get(kind)!) as unknown as Figures]));
}

async function runRound(i: number, scenarios: readonly RoundScenario[]): Promise<Round> {
  const round: Round = {};
  const put = (name: string, r: Figures) => (round[name] = report(i, name, r));
  const atRate = (t: Topology, rate: number) =>
    load('bench/fanout.ts', t, { CLIENTS: '1', RATE: String(rate), DURATION_MS: String(RATE_DURATION_MS) });

  if (scenarios.includes('s1') || scenarios.includes('cores')) {
    const s1Kinds = scenarios.includes('s1') ? (['ceiling', 'embedded', 'split'] as const) : (['embedded'] as const);
    const kinds: Kind[] = [
      ...s1Kinds,
      ...(scenarios.includes('s1') ? (['split-floor'] as const) : []),
      ...(scenarios.includes('cores') ? (['embedded-unpinned'] as const) : []),
    ];
    await withTopologies(kinds, async (topologies) => {
      for (const [kind, r] of interleavedClosedLoops(topologies)) {
        put(kind === 'embedded-unpinned' ? 'cores.embedded-unpinned' : `s1.${kind}.closed`, r);
      }
      // The servers with no fixed-rate runs (the bare split, the every-core relay) stop here: idle, they would still
      // share core 0 with the servers whose latency is measured next.
      for (const [kind, topology] of topologies) if (!(s1Kinds as readonly Kind[]).includes(kind)) await topology.stop();
      if (!scenarios.includes('s1')) return;
      for (const rate of [500, 2000]) {
        for (const kind of s1Kinds) put(`s1.${kind}.r${rate}`, atRate(topologies.get(kind)!, rate));
      }
    });
  }
  if (scenarios.includes('fanout')) {
    // The floor, a second reference: one socket.write of a prebuilt frame per client and event (no ws, nothing ours).
    const fanName = (kind: Kind) => (kind === 'ceiling' || kind === 'floor' ? kind : 'hookway');
    for (const kind of ['ceiling', 'floor', 'split2'] as const) {
      await withTopology(kind, (t) =>
        put(`fanoutA.${fanName(kind)}`, load('bench/fanout.ts', t, { CLIENTS: '200', RATE: '500', WARMUP_MS })),
      );
    }
    for (const kind of ['ceiling', 'floor', 'split'] as const) {
      await withTopology(kind, (t) =>
        put(`fanoutB.${fanName(kind)}`, load('bench/fanout.ts', t, { CLIENTS: '2000', RATE: '50', WARMUP_MS })),
      );
    }
  }
  if (scenarios.includes('ack')) {
    for (const kind of ['ceiling', 'embedded'] as const) {
      await withTopology(kind, (t) =>
        put(
          `ack.${kind === 'ceiling' ? 'ceiling' : 'hookway'}`,
          load('bench/fanout.ts', t, { CLIENTS: '2000', RATE: String(ACK_RATE), WARMUP_MS }),
        ),
      );
    }
  }
  if (scenarios.includes('idle')) {
    for (const kind of ['ceiling', 'embedded'] as const) {
      await withTopology(kind, (t) =>
        put(`idle.${kind === 'ceiling' ? 'ceiling' : 'hookway'}`, load('bench/idle-conns.ts', t, { CLIENTS: '2000' })),
      );
    }
  }
  return round;
}

const fmt = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace(/,/g, ' ') : '—';

/** The summary: one Markdown table of medians over the rounds, each Hookway figure beside the ceiling's. */
function summarize(rounds: Round[]) {
  const has = (name: string) => rounds.some((r) => r[name] !== undefined);
  const med = (name: string, field: string) => median(rounds.map((r) => Number(r[name]?.[field])));
  /** The median over the rounds of the per-round ratio a/b. */
  const ratio = (a: string, b: string, field: string) => median(rounds.map((r) => Number(r[a]?.[field]) / Number(r[b]?.[field])));
  const all = (name: string) => {
    const lines = [...missing, ...referenceShort].filter((m) => m.includes(` ${name}:`) || m.includes(` ${name}.`));
    return lines.length === 0 ? 'all' : `NO (${lines.length} rounds)`;
  };
  const rows: string[] = [];
  const figures: Record<string, number | string> = {};
  const row = (scenario: string, figure: string, ceiling: string, hookway: string, r: string, target: string) =>
    rows.push(`| ${scenario} | ${figure} | ${ceiling} | ${hookway} | ${r} | ${target} |`);
  const lat = (name: string) => `${fmt(med(name, 'p50Ms'), 2)} / ${fmt(med(name, 'p99Ms'), 2)}`;
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
  /** The median over the rounds of process i's CPU µs/event (split topologies: Redis, ingress, gateway — their start order). */
  const processCpu = (name: string, i: number) =>
    median(rounds.map((r) => Number((r[name]?.cpuUsPerEventByProcess as unknown as number[] | undefined)?.[i])));

  for (const kind of ['embedded', 'split'] as const) {
    const c = 's1.ceiling';
    const h = `s1.${kind}`;
    if (!has(`${h}.closed`) || !has(`${c}.closed`)) continue;
    const label = kind === 'embedded' ? 'S1 embedded' : 'S1 split (ingress + gateway + Redis, core 0)';
    const tput = ratio(`${h}.closed`, `${c}.closed`, 'eventsPerSec');
    figures[`s1.${kind}.ratio`] = Number(tput.toFixed(3));
    row(
      label,
      'events/s @ 32 in flight',
      fmt(med(`${c}.closed`, 'eventsPerSec')),
      fmt(med(`${h}.closed`, 'eventsPerSec')),
      `**${x(tput)}**`,
      kind === 'embedded' ? '≥ 0.9×' : '≥ 0.6×',
    );
    row(
      label,
      'p50 / p99 ms @ 500/s',
      lat(`${c}.r500`),
      lat(`${h}.r500`),
      `p99 ${x(ratio(`${h}.r500`, `${c}.r500`, 'p99Ms'))}`,
      kind === 'embedded' ? 'p99 ≤ 4 ms' : '',
    );
    row(
      label,
      'p50 / p99 ms @ 2 000/s',
      lat(`${c}.r2000`),
      lat(`${h}.r2000`),
      `p99 ${x(ratio(`${h}.r2000`, `${c}.r2000`, 'p99Ms'))}`,
      kind === 'embedded' ? 'p99 ≤ 6 ms' : '',
    );
    row(
      label,
      `RSS MiB after the run${kind === 'split' ? ' (all 3 processes)' : ''}`,
      fmt(med(`${c}.r2000`, 'rssMiB')),
      fmt(med(`${h}.r2000`, 'rssMiB')),
      x(ratio(`${h}.r2000`, `${c}.r2000`, 'rssMiB')),
      kind === 'embedded' ? '≤ 100 MiB' : '',
    );
    row(
      label,
      'server CPU µs/event @ 32 in flight',
      fmt(med(`${c}.closed`, 'cpuUsPerEvent')),
      fmt(med(`${h}.closed`, 'cpuUsPerEvent')),
      x(ratio(`${h}.closed`, `${c}.closed`, 'cpuUsPerEvent')),
      '',
    );
    if (kind === 'split') {
      // Per process and Redis's own counters.
      const nth = (i: number) => processCpu(`${h}.closed`, i);
      const redis = (field: 'commands' | 'scripts') =>
        median(
          rounds.map(
            (r) =>
              Number((r[`${h}.closed`]?.redis as unknown as Record<string, number> | undefined)?.[field]) / Number(r[`${h}.closed`]?.acked),
          ),
        );
      row(label, 'CPU µs/event: Redis / ingress / gateway', '', `${fmt(nth(0))} / ${fmt(nth(1))} / ${fmt(nth(2))}`, '', '');
      row(
        label,
        'Redis commands / scripts per event (incl. those scripts run)',
        '',
        `${fmt(redis('commands'), 1)} / ${fmt(redis('scripts'), 2)}`,
        '',
        '',
      );
    }
    row(label, 'every acknowledged event delivered', all(c), all(h), '', 'all');
  }
  if (has('s1.split-floor.closed') && has('s1.ceiling.closed')) {
    // The bare split: what the three hops cost with nothing of a relay's work (bench/split-floor.ts). Hookway's split
    // against it says how much of split mode's distance from the ceiling is the hops and how much is Hookway.
    const b = 's1.split-floor.closed';
    const label = 'S1 bare split (reference: verify + PUBLISH, subscriber + ws.send, Redis; core 0)';
    const bareRatio = ratio(b, 's1.ceiling.closed', 'eventsPerSec');
    figures['s1.split-floor.ratio'] = Number(bareRatio.toFixed(3));
    row(label, 'events/s @ 32 in flight', fmt(med('s1.ceiling.closed', 'eventsPerSec')), fmt(med(b, 'eventsPerSec')), x(bareRatio), '');
    row(
      label,
      'server CPU µs/event @ 32 in flight; Redis / ingress / gateway',
      fmt(med('s1.ceiling.closed', 'cpuUsPerEvent')),
      `${fmt(med(b, 'cpuUsPerEvent'))}; ${fmt(processCpu(b, 0))} / ${fmt(processCpu(b, 1))} / ${fmt(processCpu(b, 2))}`,
      x(ratio(b, 's1.ceiling.closed', 'cpuUsPerEvent')),
      '',
    );
    row(label, 'every acknowledged event delivered', '', all(b), '', '');
    if (has('s1.split.closed')) {
      row(
        'S1 split against the bare split',
        'events/s (ceiling column: the bare split)',
        fmt(med(b, 'eventsPerSec')),
        fmt(med('s1.split.closed', 'eventsPerSec')),
        x(ratio('s1.split.closed', b, 'eventsPerSec')),
        '',
      );
    }
  }
  if (has('cores.embedded-unpinned')) {
    const r = ratio('cores.embedded-unpinned', 's1.embedded.closed', 'eventsPerSec');
    figures['cores.ratio'] = Number(r.toFixed(3));
    row(
      'every core: embedded unpinned (both cores; load generator still on core 1) vs embedded pinned to core 0',
      'events/s @ 32 in flight (ceiling column: the pinned embedded)',
      fmt(med('s1.embedded.closed', 'eventsPerSec')),
      fmt(med('cores.embedded-unpinned', 'eventsPerSec')),
      `**${x(r)}** of pinned${has('s1.ceiling.closed') ? `, ${x(ratio('cores.embedded-unpinned', 's1.ceiling.closed', 'eventsPerSec'))} of the ceiling` : ''}`,
      '≥ 1.3× pinned',
    );
  }
  const fan = (key: 'fanoutA' | 'fanoutB' | 'ack', label: string, target: string) => {
    const c = `${key}.ceiling`;
    const h = `${key}.hookway`;
    if (!has(h)) return;
    row(label, 'deliveries made / expected (all rounds)', deliveries(rounds, c), deliveries(rounds, h), '', 'all');
    row(label, 'delivery p50 / p99 ms', lat(c), lat(h), `p99 ${x(ratio(h, c, 'p99Ms'))}`, key === 'ack' ? '' : target);
    if (key !== 'ack') {
      row(
        label,
        'frames/s per core (senders\u2019 CPU) · µs/frame',
        `${fmt(med(c, 'framesPerCoreSec'))} · ${fmt(med(c, 'cpuUsPerFrame'), 2)}`,
        `${fmt(med(h, 'framesPerCoreSec'))} · ${fmt(med(h, 'cpuUsPerFrame'), 2)}`,
        x(ratio(h, c, 'cpuUsPerFrame')),
        '≤ 4 µs/frame',
      );
      const f = `${key}.floor`;
      if (has(f)) {
        // Per frame and per write: below one write per frame only when a write carries several frames.
        const split = (name: string) =>
          `${fmt(med(name, 'cpuUsPerFrame'), 2)} (${fmt(med(name, 'userUsPerFrame'), 2)} + ${fmt(med(name, 'systemUsPerFrame'), 2)}) · ${fmt(med(name, 'framesPerWrite'), 2)}`;
        row(
          label,
          'µs/frame (user + system) · frames per write; ceiling column: the floor, one socket.write per frame',
          split(f),
          split(h),
          `${x(ratio(h, f, 'cpuUsPerFrame'))} the floor`,
          '',
        );
      }
    } else {
      row(
        label,
        'webhook ack p50 / p99 / max ms',
        `${fmt(med(c, 'ackP50Ms'), 2)} / ${fmt(med(c, 'ackP99Ms'), 2)} / ${fmt(med(c, 'ackMaxMs'), 1)}`,
        `${fmt(med(h, 'ackP50Ms'), 2)} / ${fmt(med(h, 'ackP99Ms'), 2)} / ${fmt(med(h, 'ackMaxMs'), 1)}`,
        `p99 ${x(ratio(h, c, 'ackP99Ms'))}`,
        target,
      );
      row(
        label,
        'webhook POSTs never answered (all rounds)',
        fmt(sum(rounds, c, 'unanswered')),
        fmt(sum(rounds, h, 'unanswered')),
        '',
        '0',
      );
    }
    figures[`${key}.p99Ms`] = med(h, key === 'ack' ? 'ackP99Ms' : 'p99Ms');
  };
  fan('fanoutA', 'fan-out A: 200 clients on 2 gateways (ceiling: 1 process), 500 events/s', 'p99 ≤ 50 ms');
  fan('fanoutB', 'fan-out B: 2 000 clients on 1 gateway (ceiling: 1 process), 50 events/s', 'p99 ≤ 50 ms');
  fan('ack', `ack: 2 000 clients on one bot, one embedded process, ${ACK_RATE} events/s`, 'ack p99 ≤ 10 ms, none unanswered');
  if (has('idle.hookway')) {
    row(
      'idle: 2 000 raw clients, one embedded process',
      'KiB RSS per idle connection',
      fmt(med('idle.ceiling', 'kibPerConnection'), 1),
      fmt(med('idle.hookway', 'kibPerConnection'), 1),
      x(ratio('idle.hookway', 'idle.ceiling', 'kibPerConnection')),
      '≤ 8 KiB',
    );
    figures['idle.kibPerConnection'] = med('idle.hookway', 'kibPerConnection');
  }
  const table = [
    '| scenario | figure | ceiling (same rounds) | Hookway | Hookway / ceiling | target |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  return { table, figures };
}

function deliveries(rounds: Round[], name: string): string {
  return `${fmt(sum(rounds, name, 'delivered'))} / ${fmt(sum(rounds, name, 'expectedDeliveries'))}`;
}

function sum(rounds: Round[], name: string, field: string): number {
  return rounds.reduce((t, r) => t + (Number(r[name]?.[field]) || 0), 0);
}

async function roundScenarios(scenarios: readonly RoundScenario[]): Promise<void> {
  process.stdout.write(
    `Hookway benchmarks: ${scenarios.join(', ')}; ${ROUNDS} rounds, ${DURATION_MS / 1000} s per closed-loop/fan-out run, ` +
      `${RATE_DURATION_MS / 1000} s per fixed-rate S1 run\n` +
      `${hasTaskset ? 'servers and Redis pinned to core 0, load generators to core 1' : 'taskset missing: NOT pinned'}` +
      `${scenarios.includes('cores') ? ' (the every-core relay is NOT pinned: both cores; its load generator is still on core 1)' : ''}\n` +
      `Hookway servers from ${describeCheckout(SERVER_ROOT)}, started from ${describeStart()}\nharness and ceiling from ${describeCheckout(ROOT)}\n`,
  );
  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    process.stdout.write(`round ${i}\n`);
    rounds.push(await runRound(i, scenarios));
  }
  const { table, figures } = summarize(rounds);
  const perRound = rounds
    .map((r, i) => {
      const c = Number(r['s1.ceiling.closed']?.eventsPerSec);
      const part = (k: string) => (r[k] ? `${k.split('.')[1]} ${(Number(r[k].eventsPerSec) / c).toFixed(2)}` : '');
      return `round ${i + 1}: ceiling ${Number.isFinite(c) ? c : '—'} events/s; ${[part('s1.embedded.closed'), part('s1.split.closed'), part('s1.split-floor.closed')].filter(Boolean).join(', ')}`;
    })
    .join('\n');
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  writeFileSync(
    `${ROOT}/bench/results/latest.json`,
    `${JSON.stringify({ at: new Date().toISOString(), serverRoot: SERVER_ROOT, scenarios, durationMs: DURATION_MS, rateDurationMs: RATE_DURATION_MS, ackRate: ACK_RATE, figures, missing, referenceShort, rounds }, null, 2)}\n`,
  );
  process.stdout.write(
    `\nS1 ratios per round (events/s / ceiling's):\n${perRound}\n\nSummary (medians of ${ROUNDS} rounds; Hookway from ${SERVER_ROOT}):\n\n${table}\n\n`,
  );
  if (referenceShort.length > 0) {
    process.stdout.write(
      `A reference fell short (its figures in those rounds are a bound, not a measurement; not a Hookway failure):\n${referenceShort.join('\n')}\n`,
    );
  }
  process.stdout.write(
    missing.length === 0
      ? 'Every acknowledged event delivered, every POST answered (Hookway): yes\n'
      : `FAILED, missing:\n${missing.join('\n')}\n`,
  );
}

const args = process.argv.slice(2).map((a) => a.toLowerCase());
const unknown = args.filter((a) => a !== 'all' && a !== 'scale' && !(ROUND_SCENARIOS as readonly string[]).includes(a));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown scenario ${unknown.join(', ')}: use ${[...ROUND_SCENARIOS, 'scale', 'all'].join(', ')} (none: all but scale)\n`,
  );
  process.exit(2);
}
const selected = args.length === 0 || args.includes('all') ? [...ROUND_SCENARIOS] : ROUND_SCENARIOS.filter((s) => args.includes(s));
if (selected.length > 0) await roundScenarios(selected);
if (args.includes('scale') || args.includes('all')) {
  if (!(await runScale())) missing.push('MISSING: scale');
}
if (missing.length > 0) process.exitCode = 1;
