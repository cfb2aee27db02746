import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeClusterPort, freePort } from './redis-server.ts';
import { until } from './wait.ts';

/**
 * Real replicated Redis set-ups for tests, on free ports in a throw-away directory: a master with two replicas
 * watched by three sentinels, and a 3-master/3-replica Redis Cluster. Readiness is read from the servers'
 * own state (INFO, SENTINEL, CLUSTER INFO), never assumed after a sleep.
 */
export interface RedisNodeProcess {
  readonly port: number;
  /** SIGKILL: the node dies with no goodbye (no replication of what it had not sent yet). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (it rejoins as a replica of whoever is master now). */
  restart(): void;
  /** SIGSTOP / SIGCONT: a node that stops answering (and acknowledging replication) without losing its connections. */
  freeze(): void;
  thaw(): void;
  readonly alive: boolean;
}

export interface HostPortAddress {
  readonly host: string;
  readonly port: number;
}

class NodeProcess implements RedisNodeProcess {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {
    this.restart();
  }
  restart(): void {
    if (this.alive) return;
    this.child = spawn('redis-server', this.args, { stdio: 'ignore' });
    this.child.once('error', () => undefined);
  }
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }
  thaw(): void {
    this.child?.kill('SIGCONT');
  }
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  async kill(): Promise<void> {
    const running = this.child;
    this.child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
  }
}

/** A short-lived question to one node; undefined when it does not answer. */
async function ask<T>(port: number, question: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await question(client);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

const infoField = (info: string | undefined, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(info ?? '')?.[1]?.trim();
const onlineReplicas = (info: string | undefined) => (info ?? '').split('\n').filter((l) => /^slave\d+:.*state=online/.test(l)).length;

const serverArgs = (port: number, dir: string) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir,
];

export interface SentinelSetup {
  readonly masterName: string;
  readonly sentinels: readonly HostPortAddress[];
  /** `host:port,…` for REDIS_SENTINELS. */
  readonly sentinelList: string;
  readonly servers: readonly RedisNodeProcess[];
  /** The port the sentinels currently name as master. */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master; resolves with its port. */
  killMaster(): Promise<number>;
  /**
   * Resolves once a replica of the killed `oldPort` answers as master: the sentinels elected a leader and promoted it,
   * so the failover goes on even if `oldPort` comes back now (they may still name it until they switch).
   */
  promotedFrom(oldPort: number): Promise<number>;
  /** Resolves once the sentinels name a master other than `oldPort` that answers as master. */
  failoverFrom(oldPort: number): Promise<number>;
  /** Resolves once the master has 2 online replicas and every sentinel knows them (after a restart, say). */
  healthy(): Promise<void>;
  dispose(): Promise<void>;
}

/** 1 master + 2 replicas + 3 sentinels (quorum 2, down-after 1 s): a failover completes in a few seconds. */
export function startSentinelSetup(options: { masterName?: string; downAfterMs?: number } = {}): Promise<SentinelSetup> {
  return withFreshPorts(() => startSentinelSetupOnce(options));
}

async function startSentinelSetupOnce(options: { masterName?: string; downAfterMs?: number }): Promise<SentinelSetup> {
  const masterName = options.masterName ?? 'hookway';
  const dir = mkdtempSync(join(tmpdir(), 'hookway-sentinel-'));
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const servers = ports.map((port, i) => {
    const nodeDir = join(dir, `redis-${i}`);
    mkdirSync(nodeDir);
    const args = serverArgs(port, nodeDir);
    if (i > 0) args.push('--replicaof', '127.0.0.1', String(ports[0]));
    return new NodeProcess(port, args);
  });
  const sentinelPorts = await Promise.all([0, 1, 2].map(() => freePort()));
  const sentinels = sentinelPorts.map((port, i) => {
    const file = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${ports[0]} 2`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 2`,
        '',
      ].join('\n'),
    );
    return new NodeProcess(port, [file, '--sentinel']);
  });
  const all = [...servers, ...sentinels];
  const masterPort = async () => {
    for (const s of sentinelPorts) {
      const addr = await ask(s, (r) => r.call('SENTINEL', 'get-master-addr-by-name', masterName) as Promise<[string, string] | null>);
      if (addr) return Number(addr[1]);
    }
    throw new Error('no sentinel names a master');
  };
  const setup: SentinelSetup = {
    masterName,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    sentinelList: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    servers,
    masterPort,
    killMaster: async () => {
      const port = await masterPort();
      await servers.find((s) => s.port === port)?.kill();
      return port;
    },
    promotedFrom: async (oldPort) => {
      let promoted = oldPort;
      await until(
        async () => {
          for (const server of servers) {
            if (server.port === oldPort || !server.alive) continue;
            if (infoField(await ask(server.port, (r) => r.info('replication')), 'role') === 'master') {
              promoted = server.port;
              return true;
            }
          }
          return false;
        },
        `a replica of ${oldPort} to be promoted`,
        50,
      );
      return promoted;
    },
    failoverFrom: async (oldPort) => {
      let now = oldPort;
      await until(
        async () => {
          now = await masterPort().catch(() => oldPort);
          if (now === oldPort) return false;
          return infoField(await ask(now, (r) => r.info('replication')), 'role') === 'master';
        },
        `the sentinels to promote a replica of ${oldPort}`,
        50,
      );
      return now;
    },
    healthy: async () => {
      await until(
        async () => onlineReplicas(await ask(await masterPort().catch(() => 0), (r) => r.info('replication'))) === 2,
        'the master to have 2 online replicas',
        50,
      );
      await until(
        async () => {
          const views = await Promise.all(
            sentinelPorts.map((p) => ask(p, (r) => r.call('SENTINEL', 'master', masterName) as Promise<string[]>)),
          );
          return views.every((v) => {
            if (!v) return false;
            const field = (name: string) => v[v.indexOf(name) + 1];
            // num-slaves also counts replicas a sentinel still remembers after they died: the flags say the master is fine.
            return Number(field('num-slaves')) >= 2 && field('num-other-sentinels') === '2' && field('flags') === 'master';
          });
        },
        'every sentinel to know 2 replicas and 2 other sentinels',
        50,
      );
    },
    dispose: async () => {
      await Promise.all(all.map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      async () => {
        assertAlive(all);
        return (await Promise.all(all.map((p) => ask(p.port, (r) => r.ping())))).every((x) => x === 'PONG');
      },
      'the sentinel set-up to answer',
      50,
    );
    await setup.healthy();
  } catch (err) {
    await setup.dispose();
    throw err;
  }
  return setup;
}

export interface RedisClusterSetup {
  readonly nodes: readonly HostPortAddress[];
  /** `host:port,…` for REDIS_CLUSTER_NODES. */
  readonly nodeList: string;
  readonly servers: readonly RedisNodeProcess[];
  /** The port of the master that owns `key`'s slot now. */
  masterFor(key: string): Promise<number>;
  /** The ports of the current masters. */
  masters(): Promise<number[]>;
  kill(port: number): Promise<void>;
  /** Resolves once `key`'s slot is served by a master other than `oldPort` and the cluster state is ok again. */
  failoverFrom(key: string, oldPort: number): Promise<number>;
  /** Resolves once the state is ok everywhere and each of 3 masters has its replica online. */
  healthy(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Starts again, on new ports, when a node exits before it answers: a free port can be taken by another process
 * between `freePort()` and the node binding it (tests run in parallel), and waiting for that node would never end.
 */
async function withFreshPorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof NodeExitedError) || attempt === 3) throw err;
    }
  }
}

class NodeExitedError extends Error {}

/** For `until` checks while nodes start: a node that exited (its port taken, say) fails the start at once. */
function assertAlive(processes: readonly RedisNodeProcess[]): void {
  const gone = processes.find((p) => !p.alive);
  if (gone) throw new NodeExitedError(`the node on port ${gone.port} exited while starting`);
}

/** 3 masters + 3 replicas (`redis-cli --cluster create … --cluster-replicas 1`), cluster-node-timeout 1 s. */
export function startRedisCluster(options: { nodeTimeoutMs?: number } = {}): Promise<RedisClusterSetup> {
  return withFreshPorts(() => startRedisClusterOnce(options));
}

async function startRedisClusterOnce(options: { nodeTimeoutMs?: number }): Promise<RedisClusterSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'hookway-cluster-'));
  const ports: number[] = [];
  // One at a time, so that no two nodes of this cluster draw the same port.
  while (ports.length < 6) {
    const port = await freeClusterPort();
    if (!ports.includes(port)) ports.push(port);
  }
  const servers = ports.map((port, i) => {
    const nodeDir = join(dir, `node-${i}`);
    mkdirSync(nodeDir);
    return new NodeProcess(port, [
      ...serverArgs(port, nodeDir),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 1000),
      // Promote a replica however long it was cut off: the tests kill masters on purpose.
      '--cluster-replica-validity-factor',
      '0',
    ]);
  });
  const livePorts = () => servers.filter((s) => s.alive).map((s) => s.port);
  const slotOwner = async (key: string): Promise<number | undefined> => {
    for (const port of livePorts()) {
      const found = await ask(port, async (r) => {
        const slot = Number(await r.call('CLUSTER', 'KEYSLOT', key));
        const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        return range ? Number(range[2][1]) : undefined;
      });
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const clusterOk = async () => {
    for (const port of livePorts()) {
      if (infoField(await ask(port, (r) => r.cluster('INFO')), 'cluster_state') !== 'ok') return false;
    }
    return true;
  };
  const masters = async () => {
    const result: number[] = [];
    for (const port of livePorts()) {
      if (infoField(await ask(port, (r) => r.info('replication')), 'role') === 'master') result.push(port);
    }
    return result;
  };
  const setup: RedisClusterSetup = {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    nodeList: ports.map((p) => `127.0.0.1:${p}`).join(','),
    servers,
    masters,
    masterFor: async (key) => {
      const port = await slotOwner(key);
      if (port === undefined) throw new Error(`no node owns the slot of ${key}`);
      return port;
    },
    kill: async (port) => {
      await servers.find((s) => s.port === port)?.kill();
    },
    failoverFrom: async (key, oldPort) => {
      let now: number | undefined = oldPort;
      await until(
        async () => {
          now = await slotOwner(key);
          return now !== undefined && now !== oldPort && (await clusterOk());
        },
        `a replica of ${oldPort} to take over`,
        50,
      );
      return now;
    },
    healthy: async () => {
      await until(clusterOk, 'every node to report cluster_state:ok', 50);
      await until(
        async () => {
          const owners = await masters();
          if (owners.length !== 3) return false;
          const infos = await Promise.all(owners.map((p) => ask(p, (r) => r.info('replication'))));
          return infos.every((i) => onlineReplicas(i) === 1);
        },
        'each of 3 masters to have its replica online',
        50,
      );
    },
    dispose: async () => {
      await Promise.all(servers.map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      async () => {
        assertAlive(servers);
        return (await Promise.all(ports.map((p) => ask(p, (r) => r.ping())))).every((x) => x === 'PONG');
      },
      'six nodes to answer',
      50,
    );
    await createCluster(ports);
    await setup.healthy();
  } catch (err) {
    await setup.dispose();
    throw err;
  }
  return setup;
}

async function createCluster(ports: number[]): Promise<void> {
  const child = spawn(
    'redis-cli',
    ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}): ${output.slice(-500)}`);
}

/** The Sentinel and Cluster targets of a test file, started once in `beforeAll` (the shape `RedisTarget` has). */
export interface RedisTopologies {
  sentinel(): { mode: 'sentinel'; sentinels: readonly HostPortAddress[]; masterName: string; password: string; sentinelPassword: string };
  cluster(): { mode: 'cluster'; nodes: readonly HostPortAddress[]; password: string };
  readonly sentinelSetup: SentinelSetup;
  readonly clusterSetup: RedisClusterSetup;
}

/**
 * Starts a Sentinel set-up and a Cluster for the test file (pass vitest's `beforeAll`/`afterAll`), so that a
 * contract suite can run against both: `const t = redisTopologies(beforeAll, afterAll)`.
 */
export function redisTopologies(
  beforeAll: (fn: () => Promise<void>, timeoutMs?: number) => void,
  afterAll: (fn: () => Promise<void>, timeoutMs?: number) => void,
): RedisTopologies {
  let sentinelSetup: SentinelSetup | undefined;
  let clusterSetup: RedisClusterSetup | undefined;
  beforeAll(async () => {
    [sentinelSetup, clusterSetup] = await Promise.all([startSentinelSetup(), startRedisCluster()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([sentinelSetup?.dispose(), clusterSetup?.dispose()]);
  }, 30_000);
  const started = <T>(x: T | undefined): T => {
    if (!x) throw new Error('the Redis topologies are started in beforeAll');
    return x;
  };
  return {
    get sentinelSetup() {
      return started(sentinelSetup);
    },
    get clusterSetup() {
      return started(clusterSetup);
    },
    sentinel: () => {
      const s = started(sentinelSetup);
      return { mode: 'sentinel', sentinels: s.sentinels, masterName: s.masterName, password: '', sentinelPassword: '' };
    },
    cluster: () => ({ mode: 'cluster', nodes: started(clusterSetup).nodes, password: '' }),
  };
}
