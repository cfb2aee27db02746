import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '@hookway/runtime';
import { freePort, until, waitingFor } from '@hookway/testkit';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** After pnpm is stopped the server must be gone within the (default) shutdown deadline, parent poll included. */
const SHUTDOWN_TIMEOUT_MS = defaultConfig().shutdownTimeoutMs;

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Gone, or a zombie nobody reaped yet (in a container PID 1 may never reap): either way it runs no code. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The server's PID, killed after the test whatever happened: a failing run must not leave it serving. */
let server: number | undefined;
afterEach(() => {
  if (server !== undefined && running(server)) process.kill(server, 'SIGKILL');
  server = undefined;
});

describe('pnpm start, stopped by the PID the user gets', { timeout: 60_000 }, () => {
  it('kill -TERM <pid of pnpm> stops the server: the port is freed and node exits within the shutdown deadline', async () => {
    const port = await freePort();
    const { PATH = '', HOME = '' } = process.env;
    const pnpm = spawn('pnpm', ['start'], { cwd: ROOT, env: { PATH, HOME, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' } });
    let out = '';
    pnpm.stdout.on('data', (d) => (out += d));
    pnpm.stderr.on('data', (d) => (out += d));
    const node = await waitingFor(
      () => `the relay to listen:\n${out}`,
      new Promise<number>((resolve) => {
        const check = () => {
          const match = /"pid":(\d+),[^\n]*listening/.exec(out);
          if (match) resolve(Number(match[1]));
        };
        pnpm.stdout.on('data', check);
      }),
    );
    server = node;
    expect(node).not.toBe(pnpm.pid);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const stoppedMs = Date.now();
    pnpm.kill('SIGTERM');
    await until(
      async () => !running(node) && !(await accepts(port)),
      () => `node ${node} to exit and free port ${port}:\n${out}`,
      50,
    );
    expect(Date.now() - stoppedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // The graceful path ran (clients closed with 1001, stores closed): no kill by anyone.
    expect(out).toMatch(/"reason":"parent process \d+ exited"[^\n]*"msg":"shutting down"/);
    expect(out).toMatch(/"clean":true[^\n]*"msg":"stopped"/);
  });
});
