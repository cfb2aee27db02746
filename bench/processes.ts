/**
 * What every bench scenario needs to start its servers: free ports, `taskset` pinning (servers on core 0, load
 * generator on core 1) and a group of child processes started, awaited and stopped together.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

export const pinned = (core: number, command: string, args: string[]): [string, string[]] =>
  hasTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];

/** Moves a running process (every thread of it) onto `core`: for servers another module spawned. */
export function pinPid(pid: number, core: number): void {
  if (hasTaskset) execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, children: ChildProcess[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null);
    if (dead) throw new Error(`${what}: a server process exited with ${dead.exitCode}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} never became ready`);
}

export interface ProcessGroup {
  /** Starts `command` on core 0 with the servers' environment. */
  readonly launch: (command: string, args: string[], env?: Record<string, string>) => ChildProcess;
  /** Starts a Node server script on a free port and resolves with its base URL once it answers (`/readyz` 200). */
  readonly node: (script: string, env?: Record<string, string>) => Promise<string>;
  /** SIGTERM to every process, newest first; resolves when all have exited. */
  readonly stop: () => Promise<void>;
}

export function processGroup(): ProcessGroup {
  const children: ChildProcess[] = [];
  const launch = (command: string, args: string[], env: Record<string, string> = {}) => {
    const [cmd, argv] = pinned(0, command, args);
    const child = spawn(cmd, argv, {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  };
  return {
    launch,
    node: async (script, env = {}) => {
      const port = await freePort();
      launch(process.execPath, ['--import', 'tsx', script], { PORT: String(port), ...env });
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200 || script.startsWith('bench/'), script, children);
      await waitFor(async () => (await fetch(`${url}/`)).status > 0, script, children);
      return url;
    },
    stop: async () => {
      await Promise.all(
        [...children].reverse().map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          await exited;
        }),
      );
    },
  };
}

/** Runs a load generator script on core 1 to its end; resolves with the JSON of its last output line. */
export function runLoadOnCore1<T>(script: string, env: Record<string, string>): T {
  const [cmd, args] = pinned(1, process.execPath, ['--import', 'tsx', script]);
  const output = execFileSync(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as T;
}
