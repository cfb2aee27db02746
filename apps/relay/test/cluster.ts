import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitingFor } from '@hookway/testkit';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export type Role = 'ingress' | 'gateway' | 'relay';

/** The command each role runs: the same one package.json's start scripts and docker-compose.yml use. */
export const ROLE_ENTRY: Record<Role, string> = {
  ingress: 'apps/ingress/src/main.ts',
  gateway: 'apps/gateway/src/main.ts',
  relay: 'apps/relay/src/main.ts',
};

/** `pnpm hookway …`: the command line (package.json's `hookway` script runs exactly this). */
export const CLI_ENTRY = 'apps/relay/src/cli.ts';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pnpm hookway <args>` as its own process with these settings (and nothing else from this process's). */
export async function runHookway(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  return { status, stdout, stderr };
}

export interface HookwayProcess {
  readonly role: Role;
  readonly port: number;
  readonly baseUrl: string;
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves once the output so far matches `pattern`. */
  outputMatching(pattern: RegExp): Promise<void>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a real Hookway process on a free port and waits until it says it is listening. */
export async function startProcess(role: Role, env: Record<string, string>): Promise<HookwayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ROLE_ENTRY[role]], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    const check = () => {
      const match = /"port":(\d+),[^\n]*listening/.exec(out);
      if (match) {
        child.stdout.off('data', check);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    exited.then(
      (code) => reject(new Error(`${role} exited with ${code} before listening:\n${out}`)),
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
  const port = await waitingFor(() => `${role} to listen:\n${out}`, listening);
  return {
    role,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    outputMatching: (pattern) =>
      waitingFor(
        `${role} to print ${String(pattern)}`,
        new Promise<void>((resolve) => {
          const check = () => {
            if (!pattern.test(out)) return;
            child.stdout.off('data', check);
            child.stderr.off('data', check);
            resolve();
          };
          child.stdout.on('data', check);
          child.stderr.on('data', check);
          check();
        }),
      ),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
