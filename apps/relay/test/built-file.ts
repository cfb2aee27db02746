import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { waitingFor } from '@hookway/testkit';
import { buildBundle } from '../../../scripts/build.ts';

/** dist/hookway.mjs built once into a temp directory, then copied ALONE into an empty one: nothing to lean on. */
export async function buildAlone(): Promise<string> {
  const built = await buildBundle(join(mkdtempSync(join(tmpdir(), 'hookway-build-')), 'hookway.mjs'));
  const dir = mkdtempSync(join(tmpdir(), 'hookway-alone-'));
  const file = join(dir, 'hookway.mjs');
  copyFileSync(built, file);
  if (readdirSync(dir).join() !== 'hookway.mjs') throw new Error(`${dir} is not empty apart from the built file`);
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    // Node would resolve a bare import from any ancestor's node_modules: the test would not prove the file stands alone.
    if (existsSync(join(d, 'node_modules'))) throw new Error(`${d}/node_modules exists: run the built file elsewhere`);
  }
  return file;
}

/**
 * Plain `node <file> …` in the file's directory with only these settings: no NODE_OPTIONS (no tsx loader), no
 * inherited pnpm variables.
 */
export function runBuilt(file: string, args: readonly string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [file, ...args], {
    cwd: dirname(file),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
}

export interface Finished {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command of the built file, to its end. */
export async function runBuiltCommand(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  const child = runBuilt(file, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await waitingFor(
    () => `${args.join(' ')} to finish:\n${stdout}${stderr}`,
    new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    }),
  );
  return { status, stdout, stderr };
}

export interface BuiltServer {
  readonly baseUrl: string;
  readonly port: number;
  output(): string;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** A role of the built file on a free port, once it says it listens. */
export async function serveBuilt(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<BuiltServer> {
  const child = runBuilt(file, args, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await waitingFor(
    () => `node ${file} ${args.join(' ')} to listen:\n${out}`,
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const match = /"port":(\d+),[^\n]*listening/.exec(out);
        if (match) resolve(Number(match[1]));
      };
      child.stdout.on('data', check);
      exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${out}`)), reject);
    }),
  );
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
