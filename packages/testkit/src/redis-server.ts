import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real redis-server started for tests on a free port, in a throw-away directory. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGTERM, waits for exit). `restart()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL): an outage with no goodbye. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * A free TCP port for a process the test starts (Redis, nginx, a relay with a fixed PORT), chosen BELOW the kernel's
 * ephemeral range: a port the kernel hands out for `listen(0)` or an outgoing connection can be taken by another
 * test's process between this check and the caller's bind (a relay with PORT=0 once answered an nginx test's
 * /readyz on the port nginx then failed to bind). Falls back to the kernel's choice where the range is unknown.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  if (ephemeralLow - low >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = low + Math.floor(Math.random() * (ephemeralLow - low));
      if (await canListen(port)) return port;
    }
  }
  return listenOn(0);
}

/**
 * A free port for a Redis Cluster node, whose cluster bus listens on port + 10 000: both must be free and outside the
 * ephemeral range, so nodes take ports in 10 000–19 999 and their buses 20 000–29 999 (never each other's).
 */
export async function freeClusterPort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  if (ephemeralLow >= 30_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 10_000 + Math.floor(Math.random() * 10_000);
      if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
    }
  }
  // Unknown range: the kernel's choice, as long as the bus port exists and is free.
  for (;;) {
    const port = await listenOn(0);
    if (port + 10_000 <= 65_535 && (await canListen(port + 10_000))) return port;
  }
}

function ephemeralRange(): [number, number] {
  try {
    const [lowText, highText] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return [Number(lowText), Number(highText)];
  } catch {
    return [0, 0];
  }
}

async function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** `appendOnly` keeps data across `restart()`; without it a restart comes back empty, as a cache would. */
export async function startRedisServer(options: { appendOnly?: boolean; extraArgs?: readonly string[] } = {}): Promise<RedisServer> {
  // A cluster-enabled node also binds its cluster bus on port + 10 000, which freePort's range does not keep free.
  const port = options.extraArgs?.includes('--cluster-enabled') ? await freeClusterPort() : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hookway-redis-'));
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--daemonize', 'no'];
    args.push('--appendonly', options.appendOnly ? 'yes' : 'no', '--appendfsync', 'always', ...(options.extraArgs ?? []));
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const started = child;
    const exited = new Promise<never>((_, reject) => {
      started.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            err.code === 'ENOENT'
              ? 'redis-server is not installed: the tests start a real one (apt-get install redis-server), or set REDIS_URL'
              : `redis-server could not start: ${err.message}`,
          ),
        ),
      );
      started.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([answersPing(port), exited]))) {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: launch,
    dispose: async () => {
      await halt('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
