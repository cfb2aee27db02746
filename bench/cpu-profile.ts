/**
 * Where the CPU goes per event: `node --import tsx bench/cpu-profile.ts [split|embedded|ceiling|split-floor]` starts the topology with
 * `node --cpu-prof` (servers on core 0, the S1 closed-loop load generator on core 1), runs bench/load.ts, reads the
 * Redis counters around the run (split, split-floor), stops the servers and prints, per process, CPU µs per event (from /proc)
 * and the profile's self time per event cut to the measured window: by area (Hookway package, dependency, node
 * internals, GC) and the top functions. Settings: DURATION_MS (10 000), PROFILE_DIR (a fresh temp dir), TOP (25).
 * Profiling itself slows the servers (~10–20 %): compare areas with each other, not with an unprofiled run.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pinPid, processGroup, runLoadOnCore1, splitRole } from './processes.ts';
import type { NodeCounters } from './redis-stats.ts';

const kind = process.argv[2] ?? 'split';
const DURATION_MS = Number(process.env.DURATION_MS ?? 10_000);
const TOP = Number(process.env.TOP ?? 25);
/** PROFILE=0: no --cpu-prof, only the /proc and Redis figures (unslowed). */
const PROFILE = process.env.PROFILE !== '0';
/** SPREAD=1 (split, split-floor): Redis and the gateway move to core 1 beside the load generator, so the ingress has core 0 alone. */
const SPREAD = process.env.SPREAD === '1';
const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'hookway-prof-'));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** What a frame's code belongs to, for the per-area table. */
function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(idle)' || name === '(root)') return name;
  if (url === '') return 'native / builtins';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const dep = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  const own = /\/((?:packages|apps|bench)\/[^/]+)\//.exec(url);
  return own ? own[1]! : url;
}

/** Self time (µs) by area and by function within [fromUs, toUs] of the profile's clock. */
function selfTimes(profile: Profile, fromUs: number, toUs: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += dt;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|packages|apps)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  }
  return { total, byArea, byFunction };
}

const group = processGroup();
const roles: { role: string; pid: number; dir: string }[] = [];
const profiled = async (role: string, script: string, env: Record<string, string> = {}) => {
  const roleDir = join(dir, role);
  const started = await group.start(script, env, { nodeFlags: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${roleDir}`] : [] });
  roles.push({ role, pid: started.pid, dir: PROFILE ? roleDir : '' });
  return started;
};

let redisPort = 0;
let target: string;
let wsTarget: string;
if (kind === 'split' || kind === 'split-floor') {
  redisPort = await freePort();
  const redis = group.launch('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  roles.push({ role: 'redis', pid: redis.pid!, dir: '' });
  const env = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
  // split-floor: the bare split (bench/split-floor.ts), the same roles with nothing of a relay's work.
  const bare = kind === 'split-floor';
  target = (await profiled('ingress', ...splitRole('ingress', env, bare))).url;
  const gateway = await profiled('gateway', ...splitRole('gateway', env, bare));
  wsTarget = gateway.url;
  if (SPREAD) for (const pid of [redis.pid!, gateway.pid]) pinPid(pid, 1);
} else if (kind === 'ceiling') {
  target = wsTarget = (await profiled('ceiling', 'bench/ceiling.ts')).url;
} else {
  target = wsTarget = (await profiled('embedded', 'apps/relay/src/main.ts')).url;
}

let result: Record<string, unknown>;
try {
  result = runLoadOnCore1<Record<string, unknown>>('bench/load.ts', {
    REDIS_PORT: String(redisPort),
    TARGET: target,
    WS_TARGET: wsTarget,
    DURATION_MS: String(DURATION_MS),
    SERVER_PIDS: roles.map((r) => r.pid).join(','),
  });
} finally {
  await group.stop();
}

const events = Number(result.acked);
const redisDelta = result.redis as NodeCounters | undefined;
const [fromNs, toNs] = (result.windowNs as [string, string]).map((x) => Number(BigInt(x) / 1000n)) as [number, number];
const perProcess = result.cpuUsPerEventByProcess as number[];
process.stdout.write(
  `${kind}: ${events} events acknowledged in ${Number(result.measuredMs) / 1000} s (${String(result.eventsPerSec)} events/s), ` +
    `all delivered: ${result.delivered === result.acked ? 'yes' : 'NO'}; server CPU ${String(result.cpuUsPerEvent)} µs/event\n` +
    roles
      .map((r, i) => {
        const [user, sys] = (result.userSysUsPerEventByProcess as number[][])[i]!;
        return `  ${r.role}: ${perProcess[i]} µs/event (/proc: user ${user}, system ${sys}${PROFILE ? '; includes profiling overhead' : ''})`;
      })
      .join('\n') +
    '\n',
);
if (redisDelta) {
  const per = (n: number) => (n / events).toFixed(2);
  process.stdout.write(
    `  redis: ${((redisDelta.cpuSec * 1e6) / events).toFixed(1)} µs/event (INFO cpu), commands ${per(redisDelta.commands)}/event ` +
      `(incl. those scripts call), scripts ${per(redisDelta.scripts)}/event, publish ${per(redisDelta.publish)}/event, ` +
      `bytes out ${per(redisDelta.netOutputBytes)}/event\n`,
  );
}

for (const { role, dir: roleDir } of roles) {
  if (!roleDir) continue;
  const file = readdirSync(roleDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    process.stdout.write(`\n${role}: no profile written\n`);
    continue;
  }
  const profile = JSON.parse(readFileSync(join(roleDir, file), 'utf8')) as Profile;
  const { total, byArea, byFunction } = selfTimes(profile, fromNs, toNs);
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `    ${(us / events).toFixed(1).padStart(7)} µs  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  process.stdout.write(
    `\n${role}: ${(total / events).toFixed(1)} µs/event sampled on the main thread (${join(roleDir, file)})\n  by area:\n${rows(byArea, 20)}\n  top functions (self):\n${rows(byFunction, TOP)}\n`,
  );
}
