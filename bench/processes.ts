/**
 * What every bench scenario needs to start its servers: free ports, `taskset` pinning (servers on core 0, load
 * generator on core 1) and a group of child processes started, awaited and stopped together.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { INGRESS_NODE_FLAGS, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from '../scripts/node-flags.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Whose Hookway servers the bench starts: this checkout, or another one named by HOOKWAY_ROOT (with its own
 * node_modules), so that before/after runs share one harness. The ceiling and the load generators are always this
 * checkout's; settings the other checkout does not know are ignored by it.
 */
export const SERVER_ROOT = process.env.HOOKWAY_ROOT ? resolve(process.env.HOOKWAY_ROOT) : ROOT;

/** `<checkout> (<commit>)` for the report. */
export function describeCheckout(root: string): string {
  try {
    return `${root} (${execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim().slice(0, 72)})`;
  } catch {
    return root;
  }
}

/**
 * How Hookway's servers are started: `dist` (default) runs the built file, `node <checkout>/dist/hookway.mjs <role>`, as
 * the production recipes do (Dockerfile, systemd), built once per bench run by the checkout's own `scripts/build.ts`;
 * `tsx` runs `node --import tsx apps/<role>/src/main.ts`, as `pnpm start` does.
 */
export const BENCH_START = parseBenchStart(process.env.BENCH_START);

function parseBenchStart(value: string | undefined): 'dist' | 'tsx' {
  if (value === undefined || value === '' || value === 'dist') return 'dist';
  if (value === 'tsx') return 'tsx';
  process.stderr.write(`BENCH_START=${value}: use dist (the built file, default) or tsx (pnpm start's TypeScript start)\n`);
  process.exit(2);
}

/**
 * The node options the built file starts with: the production recipes' (scripts/node-flags.ts) unless BENCH_NODE_FLAGS
 * names others (empty: none — e.g. for a checkout from before the recipes had them, or to see what they change).
 */
const BENCH_NODE_FLAGS: readonly string[] =
  process.env.BENCH_NODE_FLAGS === undefined ? PRODUCTION_NODE_FLAGS : process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);

/** The split ingress's own, after those (scripts/node-flags.ts); none when BENCH_NODE_FLAGS names every role's. */
const BENCH_INGRESS_FLAGS: readonly string[] = process.env.BENCH_NODE_FLAGS === undefined ? INGRESS_NODE_FLAGS : [];

/**
 * The environment the built file starts with: the production recipes' (scripts/node-flags.ts) unless BENCH_NODE_ENV
 * names another (`NAME=value …`; empty: none).
 */
const BENCH_NODE_ENV: Readonly<Record<string, string>> =
  process.env.BENCH_NODE_ENV === undefined
    ? PRODUCTION_ENV
    : Object.fromEntries(
        process.env.BENCH_NODE_ENV.split(' ')
          .filter(Boolean)
          .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );

const ROLE_SCRIPT = /^apps\/(relay|ingress|gateway)\/src\/main\.ts$/;

/** The environment `script` starts with beside the servers' own: the production recipes' for the built file's roles. */
export function nodeEnvFor(script: string): Readonly<Record<string, string>> {
  return BENCH_START === 'dist' && ROLE_SCRIPT.test(script) ? BENCH_NODE_ENV : {};
}
let builtFile: string | undefined;

/**
 * The script and environment of a split-mode role: Hookway's (`apps/<role>/src/main.ts`), or with `bare` the bare
 * split's (bench/split-floor.ts with SPLIT_ROLE=<role>).
 */
export function splitRole(role: 'ingress' | 'gateway', env: Record<string, string>, bare: boolean): [string, Record<string, string>] {
  return bare ? ['bench/split-floor.ts', { ...env, SPLIT_ROLE: role }] : [`apps/${role}/src/main.ts`, env];
}

/**
 * The node arguments that start `script`: Hookway's role scripts from the built file under BENCH_START=dist.
 * `extraFlags` come after the production ones, so that an A/B of a flag they already hold (`--max-semi-space-size`)
 * changes it: node and V8 take the last of a flag given twice.
 */
export function nodeArgsFor(script: string, extraFlags: readonly string[] = []): string[] {
  if (BENCH_START === 'tsx') return [...extraFlags, '--import', 'tsx', script];
  if (REFERENCE_SCRIPTS.has(script)) return [...extraFlags, builtReference(script)];
  const role = ROLE_SCRIPT.exec(script)?.[1];
  if (role === undefined) return [...extraFlags, '--import', 'tsx', script];
  builtFile ??= buildServerFile();
  return [...BENCH_NODE_FLAGS, ...(role === 'ingress' ? BENCH_INGRESS_FLAGS : []), ...extraFlags, builtFile, role];
}

/** The bench's own servers: the references Hookway is measured against. */
const REFERENCE_SCRIPTS: ReadonlySet<string> = new Set(['bench/ceiling.ts', 'bench/split-floor.ts']);
/** Each reference's bundle, by script, once built in this run. */
const builtReferences = new Map<string, string>();

/**
 * The references are bundled the same way (esbuild, one file, no tsx loader in the process), so that their RSS and
 * start-up compare with the built Hookway on equal terms. Built once per run, into bench/results/<name>.cjs.
 */
function builtReference(script: string): string {
  const built = builtReferences.get(script);
  if (built !== undefined) return built;
  const file = resolve(ROOT, `bench/results/${basename(script, '.ts')}.cjs`);
  buildSync({
    entryPoints: [resolve(ROOT, script)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['bufferutil', 'utf-8-validate'],
    logLevel: 'warning',
  });
  builtReferences.set(script, file);
  return file;
}

/** Builds SERVER_ROOT's dist/hookway.mjs once (about 2 s) with that checkout's own build script. */
function buildServerFile(): string {
  const file = resolve(SERVER_ROOT, 'dist/hookway.mjs');
  try {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: SERVER_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    process.stderr.write(`bench: building ${file} failed (${(err as Error).message}); BENCH_START=tsx runs the TypeScript instead\n`);
    process.exit(2);
  }
  return file;
}

/** `built file` or `tsx`, for the report. */
export const describeStart = (): string =>
  BENCH_START === 'dist'
    ? `the built file (${[...Object.entries(BENCH_NODE_ENV).map(([k, v]) => `${k}=${v}`), 'node', ...BENCH_NODE_FLAGS, 'dist/hookway.mjs <role>'].join(' ')}${BENCH_INGRESS_FLAGS.length > 0 ? `, the ingress with ${BENCH_INGRESS_FLAGS.join(' ')} after them` : ''}; BENCH_START=tsx for pnpm start)`
    : 'tsx (node --import tsx apps/<role>/src/main.ts)';

export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

/** `command` under `taskset -c <cores>` (a core, or a list such as `0,1`), when taskset is there. */
export const pinned = (cores: number | string, command: string, args: string[]): [string, string[]] =>
  hasTaskset ? ['taskset', ['-c', String(cores), command, ...args]] : [command, args];

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

export interface LaunchOptions {
  /** false: not pinned (the every-core scenario); default: core 0. */
  readonly pinned?: boolean;
  /** The cores to pin to when pinned, as taskset takes them (`0`, `0,1`); default `0`. */
  readonly cores?: string;
  /** `pipe`: the caller reads the process's standard output (default: ignored). */
  readonly stdout?: 'ignore' | 'pipe';
  /** Working directory (default: SERVER_ROOT for Hookway's scripts, ROOT for bench/ scripts). */
  readonly cwd?: string;
  /** Extra node flags (e.g. `--cpu-prof`), after the production ones (nodeArgsFor). */
  readonly nodeFlags?: string[];
}

export interface ProcessGroup {
  /** Starts `command` on core 0 (or `options.cores`) with the servers' environment. */
  readonly launch: (command: string, args: string[], env?: Record<string, string>, options?: LaunchOptions) => ChildProcess;
  /** Starts a Node server script on a free port and resolves with its base URL once it answers (`/readyz` 200). */
  readonly node: (script: string, env?: Record<string, string>) => Promise<string>;
  /** `node`, also giving the process id (for /proc CPU and RSS readings). */
  readonly start: (script: string, env?: Record<string, string>, options?: LaunchOptions) => Promise<{ url: string; pid: number }>;
  /** Every process started so far. */
  readonly pids: () => number[];
  /** SIGTERM to every process, newest first; resolves when all have exited. */
  readonly stop: () => Promise<void>;
}

export function processGroup(): ProcessGroup {
  const children: ChildProcess[] = [];
  const launch = (command: string, args: string[], env: Record<string, string> = {}, options: LaunchOptions = {}) => {
    const [cmd, argv] = options.pinned === false ? [command, args] : pinned(options.cores ?? 0, command, args);
    const child = spawn(cmd, argv, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  };
  const start = async (script: string, env: Record<string, string> = {}, options: LaunchOptions = {}) => {
    const port = await freePort();
    const cwd = options.cwd ?? (script.startsWith('bench/') ? ROOT : SERVER_ROOT);
    // taskset execs the command, so the child's pid is the server's own.
    const child = launch(
      process.execPath,
      nodeArgsFor(script, options.nodeFlags),
      { ...nodeEnvFor(script), PORT: String(port), ...env },
      {
        ...options,
        cwd,
      },
    );
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200 || script.startsWith('bench/'), script, children);
    await waitFor(async () => (await fetch(`${url}/`)).status > 0, script, children);
    return { url, pid: child.pid! };
  };
  return {
    launch,
    start,
    node: async (script, env = {}) => (await start(script, env)).url,
    pids: () => children.map((c) => c.pid!).filter(Boolean),
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
