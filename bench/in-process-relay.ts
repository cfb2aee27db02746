/**
 * For the per-frame and per-connection measurements (bench/frame-cost.ts, bench/idle-memory.ts): the embedded relay
 * runs in THIS process (so `process.cpuUsage()` and `process.memoryUsage()` are the server's own), and the clients
 * run in a child process forked from the same script, driven over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { freePort } from './processes.ts';

/** Starts the embedded relay here (in-memory stores) and resolves with its base URL once `/readyz` says 200. */
export async function startRelayHere(env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  Object.assign(process.env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // No ping or activity traffic inside a measurement.
    WS_PING_INTERVAL_MS: '3600000',
    MAX_CONNECTIONS: '100000',
    ...env,
  });
  delete process.env.REDIS_URL;
  const { runRelay } = await import('../apps/relay/src/run-relay.ts');
  runRelay();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return url;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the relay never became ready');
}

/** The load side: this script again, in a child process, with `--load` as its argument. */
export function forkLoad(script: string, env: Record<string, string>): ChildProcess {
  return fork(script, ['--load'], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: 'inherit' });
}

/** Sends one command to the child and resolves with its answer. */
export function ask<T>(child: ChildProcess, command: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`load process exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (answer) => {
      child.off('exit', onExit);
      resolve(answer as T);
    });
    child.send(command);
  });
}

/** The child's side of `ask`: answers each command in turn. */
export function serveCommands(handle: (command: Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (command) => {
    handle(command as Record<string, unknown>).then(
      (answer) => process.send!(answer ?? {}),
      (err: unknown) => {
        process.stderr.write(`load process: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
