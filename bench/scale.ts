/**
 * The scale scenario (issue 12): many bots, one raw client each spread over 2 gateways, a fixed total event rate —
 * once against one redis-server and once against a 3-master/3-replica Redis Cluster (sharded pub/sub). Reports
 * delivered events/s, delivery latency, Redis CPU per event and what each Redis node did. Hookway always uses
 * SPUBLISH on a Cluster, so the classic-broadcast side is a raw ioredis PUBLISH vs SPUBLISH comparison on the same
 * cluster, labelled as such. Settings: SCALE_BOTS (1000), SCALE_RATE (events/s, 500), SCALE_SECONDS (20),
 * SCALE_PUBLISHES (messages per side of the raw comparison, 5000).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { startRedisCluster } from '@hookway/testkit';
import { Cluster } from 'ioredis';
import { freePort, pinPid, processGroup, ROOT, runLoadOnCore1 } from './processes.ts';
import { delta, readAll, readCounters, serverPid, type NodeCounters } from './redis-stats.ts';

const BOTS = Number(process.env.SCALE_BOTS ?? 1000);
const RATE = Number(process.env.SCALE_RATE ?? 500);
const SECONDS = Number(process.env.SCALE_SECONDS ?? 20);
const PUBLISHES = Number(process.env.SCALE_PUBLISHES ?? 5000);

export interface ScaleLoadResult {
  bots: number;
  gateways: number;
  ratePerSec: number;
  warmup: { posted: number; acked: number; delivered: number; failed: number };
  posted: number;
  acked: number;
  failed: number;
  delivered: number;
  duplicates: number;
  measuredMs: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  redisCpuSec: number;
  redisCpuUsPerEvent: number;
  nodes: NodeCounters[];
}

export interface BroadcastComparison {
  messages: number;
  publish: NodeCounters[];
  spublish: NodeCounters[];
}

export interface ScaleResult {
  single: ScaleLoadResult;
  cluster: ScaleLoadResult;
  broadcast: BroadcastComparison;
  allDelivered: boolean;
}

/** Ingress + 2 gateways on `env`'s Redis, then the load generator on core 1. */
async function hookwayRun(env: Record<string, string>, redisPorts: number[]): Promise<ScaleLoadResult> {
  const group = processGroup();
  try {
    const ingress = await group.node('apps/ingress/src/main.ts', env);
    const gateways = await Promise.all([0, 1].map(() => group.node('apps/gateway/src/main.ts', env)));
    return runLoadOnCore1<ScaleLoadResult>('bench/scale-load.ts', {
      TARGET: ingress,
      WS_TARGETS: gateways.join(','),
      BOTS: String(BOTS),
      RATE: String(RATE),
      DURATION_MS: String(SECONDS * 1000),
      REDIS_PORTS: redisPorts.join(','),
    });
  } finally {
    await group.stop();
  }
}

async function single(): Promise<ScaleLoadResult> {
  const group = processGroup();
  try {
    const port = await freePort();
    group.launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    const deadline = Date.now() + 20_000;
    while (
      !(await readCounters(port).then(
        () => true,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} never answered`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return await hookwayRun({ REDIS_URL: `redis://127.0.0.1:${port}` }, [port]);
  } finally {
    await group.stop();
  }
}

/** N messages of ~600 bytes over BOTS bot-like channels, pipelined, as PUBLISH or SPUBLISH; per-node counters. */
async function rawPublishes(client: Cluster, ports: number[], command: 'publish' | 'spublish'): Promise<NodeCounters[]> {
  const payload = 'x'.repeat(600);
  const before = await readAll(ports);
  for (let from = 0; from < PUBLISHES; from += 200) {
    const sends: Promise<unknown>[] = [];
    for (let k = from; k < Math.min(PUBLISHES, from + 200); k++) {
      const channel = `qq:{ScaleRaw${String(k % BOTS).padStart(6, '0')}}`;
      sends.push(command === 'publish' ? client.publish(channel, payload) : client.spublish(channel, payload));
    }
    await Promise.all(sends);
  }
  // The cluster bus forwards asynchronously: let it settle before reading the receivers' counters.
  let last = '';
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const now = JSON.stringify((await readAll(ports)).map((n) => [n.busPublishReceived, n.busPublishShardReceived]));
    if (now === last) break;
    last = now;
  }
  return delta(before, await readAll(ports));
}

async function cluster(): Promise<{ run: ScaleLoadResult; broadcast: BroadcastComparison }> {
  const setup = await startRedisCluster();
  try {
    const ports = setup.nodes.map((n) => n.port);
    // The harness spawns the nodes itself: move them onto the servers' core like every other server.
    for (const port of ports) pinPid(await serverPid(port), 0);
    const run = await hookwayRun({ REDIS_CLUSTER_NODES: setup.nodeList }, ports);
    const client = new Cluster(setup.nodes.map((n) => ({ host: n.host, port: n.port })));
    try {
      const publish = await rawPublishes(client, ports, 'publish');
      const spublish = await rawPublishes(client, ports, 'spublish');
      return { run, broadcast: { messages: PUBLISHES, publish, spublish } };
    } finally {
      client.disconnect();
    }
  } finally {
    await setup.dispose();
  }
}

export async function scaleScenario(): Promise<ScaleResult> {
  const one = await single();
  process.stdout.write(`  scale one Redis ${JSON.stringify({ ...one, nodes: undefined })}\n`);
  const { run, broadcast } = await cluster();
  process.stdout.write(`  scale cluster   ${JSON.stringify({ ...run, nodes: undefined })}\n`);
  const complete = (r: ScaleLoadResult) =>
    r.warmup.delivered === r.warmup.posted && r.failed === 0 && r.acked === r.posted && r.delivered === r.acked && r.duplicates === 0;
  return { single: one, cluster: run, broadcast, allDelivered: complete(one) && complete(run) };
}

const int = (n: number) => n.toLocaleString('en-US');

/** The scale summary: one row per set-up, then what each node did, then the raw broadcast comparison. */
export function scaleTable(r: ScaleResult): string {
  const row = (name: string, x: ScaleLoadResult) =>
    `| ${name} | ${x.eventsPerSec} | ${x.p50Ms} | ${x.p99Ms} | ${x.redisCpuUsPerEvent} | ${int(x.delivered)} / ${int(x.acked)} / ${int(x.posted)} |`;
  const nodeRows = (name: string, x: ScaleLoadResult) =>
    x.nodes
      .map(
        (n) =>
          `| ${name} | ${n.port} | ${n.role} | ${int(n.scripts)} | ${int(n.publish)} | ${int(n.spublish)} | ${int(n.busPublishReceived)} | ${int(n.busPublishShardReceived)} | ${int(n.netOutputBytes)} | ${n.cpuSec} |`,
      )
      .join('\n');
  const b = r.broadcast;
  const rawRows = b.publish
    .map((p, i) => {
      const s = b.spublish[i]!;
      return `| ${p.port} | ${p.role} | ${int(p.publish)} | ${int(p.busPublishReceived)} | ${int(p.netOutputBytes)} | ${int(s.spublish)} | ${int(s.busPublishShardReceived)} | ${int(s.netOutputBytes)} |`;
    })
    .join('\n');
  const sum = (xs: NodeCounters[], f: (n: NodeCounters) => number) => int(xs.reduce((t, n) => t + f(n), 0));
  return `
scale: ${BOTS} bots (one raw client each, over 2 gateways), ${RATE} events/s offered for ${SECONDS} s, one ingress
| scale | events/s delivered | p50 ms | p99 ms | Redis CPU µs/event (all nodes) | delivered / acked / posted |
|---|---|---|---|---|---|
${row('one Redis', r.single)}
${row('3-shard cluster (3 masters + 3 replicas, SPUBLISH)', r.cluster)}

per Redis node, measured window (scripts = EVALSHA/EVAL/FCALL; publish/spublish include calls from scripts; bus = cluster-bus messages received)
| set-up | port | role | scripts | publish | spublish | bus PUBLISH recv | bus SPUBLISH recv | bytes out | CPU s |
|---|---|---|---|---|---|---|---|---|---|
${nodeRows('one Redis', r.single)}
${nodeRows('cluster', r.cluster)}

raw ioredis PUBLISH vs SPUBLISH on the same cluster (NOT Hookway: Hookway always uses SPUBLISH there), ${int(b.messages)} messages each over ${BOTS} channels, no subscribers
| port | role | PUBLISH: publish cmds | PUBLISH: bus recv | PUBLISH: bytes out | SPUBLISH: spublish cmds | SPUBLISH: bus recv | SPUBLISH: bytes out |
|---|---|---|---|---|---|---|---|
${rawRows}
| total | | ${sum(b.publish, (n) => n.publish)} | ${sum(b.publish, (n) => n.busPublishReceived)} | ${sum(b.publish, (n) => n.netOutputBytes)} | ${sum(b.spublish, (n) => n.spublish)} | ${sum(b.spublish, (n) => n.busPublishShardReceived)} | ${sum(b.spublish, (n) => n.netOutputBytes)} |

scale: every acknowledged event delivered once, nothing failed: ${r.allDelivered ? 'yes' : 'NO'}
`;
}

/** Runs the scenario, writes `bench/results/scale.json`, prints the tables; false when a delivery is missing. */
export async function runScale(): Promise<boolean> {
  process.stdout.write(`scale scenario: ${BOTS} bots, ${RATE} events/s, ${SECONDS} s, one Redis then a 3-shard cluster\n`);
  const result = await scaleScenario();
  mkdirSync(`${ROOT}/bench/results`, { recursive: true });
  writeFileSync(`${ROOT}/bench/results/scale.json`, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(scaleTable(result));
  return result.allDelivered;
}
