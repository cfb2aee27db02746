import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '@hookway/runtime';
import { freePort, until } from '@hookway/testkit';
import { INGRESS_NODE_FLAGS, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from '../../../scripts/node-flags.ts';
import { buildAlone, serveBuilt } from './built-file.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);
const SHUTDOWN_TIMEOUT_MS = defaultConfig().shutdownTimeoutMs;

let file: string;
beforeAll(async () => {
  file = await buildAlone();
}, 60_000);

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Alive and not a zombie (a container's PID 1 may never reap it). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Pm2App {
  name: string;
  node_args: string[];
  kill_timeout: number;
  script: string;
  cwd: string;
  env: Record<string, string>;
}

describe('deploy/pm2/ecosystem.config.cjs', { timeout: 90_000 }, () => {
  const ecosystem = join(ROOT, 'deploy/pm2/ecosystem.config.cjs');

  it('runs dist/hookway.mjs and waits longer than SHUTDOWN_TIMEOUT_MS before SIGKILL', () => {
    const { apps } = createRequire(import.meta.url)(ecosystem) as { apps: Pm2App[] };
    expect(apps.map((a) => a.name)).toEqual(['hookway']);
    expect(apps[0]!.script).toBe('dist/hookway.mjs');
    expect(apps[0]!.node_args).toEqual(PRODUCTION_NODE_FLAGS);
    // The note for a split deployment's ingress entry names the ingress's own options.
    expect(readFileSync(ecosystem, 'utf8')).toContain(`The ingress's entry: ${JSON.stringify(INGRESS_NODE_FLAGS).replaceAll('"', "'")}`);
    expect(apps[0]!.env).toMatchObject(PRODUCTION_ENV);
    expect(apps[0]!.cwd).toBe(ROOT.replace(/\/$/, ''));
    expect(apps[0]!.kill_timeout).toBeGreaterThan(SHUTDOWN_TIMEOUT_MS);
    expect(Number(apps[0]!.env.SHUTDOWN_TIMEOUT_MS)).toBeLessThan(apps[0]!.kill_timeout);
  });

  describe('with a real pm2', () => {
    // The repository's layout in a temp directory: deploy/pm2/ecosystem.config.cjs and dist/hookway.mjs, nothing else.
    const home = mkdtempSync(join(tmpdir(), 'hookway-pm2-'));
    const pm2Home = join(home, '.pm2');
    const pm2 = join(ROOT, 'node_modules/.bin/pm2');
    let env: Record<string, string>;
    let port: number;
    beforeAll(async () => {
      mkdirSync(join(home, 'deploy/pm2'), { recursive: true });
      mkdirSync(join(home, 'dist'));
      copyFileSync(ecosystem, join(home, 'deploy/pm2/ecosystem.config.cjs'));
      copyFileSync(file, join(home, 'dist/hookway.mjs'));
      port = await freePort();
      env = { PATH: process.env.PATH ?? '', HOME: home, PM2_HOME: pm2Home, PORT: String(port), HOST: '127.0.0.1' };
    });
    afterAll(async () => {
      // The daemon this test started, whatever happened.
      await run(pm2, ['kill'], { cwd: home, env }).catch(() => undefined);
    });

    it('pm2 start serves /healthz; pm2 delete stops it gracefully and the process is gone', async () => {
      await run(pm2, ['start', 'deploy/pm2/ecosystem.config.cjs'], { cwd: home, env });
      await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, '/healthz', 50);
      const { stdout } = await run(pm2, ['jlist'], { cwd: home, env });
      const list = JSON.parse(stdout.slice(stdout.indexOf('['))) as { name: string; pid: number; pm2_env: { status: string } }[];
      expect(list.map((p) => [p.name, p.pm2_env.status])).toEqual([['hookway', 'online']]);
      const pid = list[0]!.pid;

      await run(pm2, ['delete', 'hookway'], { cwd: home, env });
      await until(async () => !running(pid) && !(await accepts(port)), `pid ${pid} to exit and free port ${port}`, 50);
      const log = readFileSync(join(pm2Home, 'logs/hookway-out-0.log'), 'utf8');
      expect(log).toMatch(/"msg":"Hookway relay listening on http:\/\/127\.0\.0\.1:\d+"/);
      // pm2's stop signal (SIGINT) took Hookway's graceful path, within the deadline: no SIGKILL.
      expect(log).toMatch(/"reason":"SIGINT","msg":"shutting down"/);
      expect(log).toMatch(/"clean":true,"msg":"stopped"/);
    });
  });
});

/** The unit's [Service] settings, last one wins (as systemd reads them). */
function serviceSettings(unit: string): Map<string, string> {
  const settings = new Map<string, string>();
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const entry = /^(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && entry) settings.set(entry[1]!, entry[2]!);
  }
  return settings;
}

/** The unit's `Environment=NAME=value` lines in [Service], every one (systemd adds them up). */
function serviceEnvironment(unit: string): Record<string, string> {
  const environment: Record<string, string> = {};
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    const entry = /^Environment=(\w+)=(.*)$/.exec(line);
    if (section === 'Service' && entry) environment[entry[1]!] = entry[2]!;
  }
  return environment;
}

const seconds = (value: string) => {
  const match = /^(\d+)(s|min)?$/.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * (match[2] === 'min' ? 60 : 1);
};

describe('deploy/systemd/hookway.service', { timeout: 60_000 }, () => {
  const unit = readFileSync(join(ROOT, 'deploy/systemd/hookway.service'), 'utf8');
  const service = serviceSettings(unit);

  it('restarts on failure, stops with SIGTERM, waits longer than SHUTDOWN_TIMEOUT_MS, runs as a non-root user', () => {
    expect(service.get('Restart')).toBe('on-failure');
    expect(service.get('KillSignal')).toBe('SIGTERM');
    expect(seconds(service.get('TimeoutStopSec')!) * 1000).toBeGreaterThan(SHUTDOWN_TIMEOUT_MS);
    expect(service.get('User')).toMatch(/^(?!root$)\w+$/);
    expect(service.get('EnvironmentFile')).toBe('/etc/hookway/hookway.env');
    expect(service.get('ExecStart')).toBe('/usr/bin/node /opt/hookway/dist/hookway.mjs');
    expect(serviceEnvironment(unit)).toEqual({ NODE_OPTIONS: PRODUCTION_NODE_FLAGS.join(' '), ...PRODUCTION_ENV });
    // The note for a split deployment's ingress unit: its own options on the command line, after NODE_OPTIONS.
    expect(unit).toContain(`ExecStart=/usr/bin/node ${INGRESS_NODE_FLAGS.join(' ')} /opt/hookway/dist/hookway.mjs ingress`);
  });

  it('systemd-analyze verify accepts it without a warning (ExecStart pointed at a real node and built file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookway-systemd-'));
    const copy = join(dir, 'hookway.service');
    writeFileSync(copy, unit.replace('ExecStart=/usr/bin/node /opt/hookway/dist/hookway.mjs', `ExecStart=${process.execPath} ${file}`));
    const { stdout, stderr } = await run('systemd-analyze', ['verify', copy]);
    expect(`${stdout}${stderr}`).toBe('');
    // The same check must catch a broken unit, or this test proves nothing.
    const broken = join(dir, 'broken.service');
    writeFileSync(broken, readFileSync(copy, 'utf8').replace('Restart=on-failure', 'Restart=onfailure'));
    const verdict = await run('systemd-analyze', ['verify', broken]).then((r) => `${r.stdout}${r.stderr}`);
    expect(verdict).toContain('restart specifier');
  });

  it('its ExecStart with the example environment file serves /healthz', async () => {
    const example = readFileSync(join(ROOT, 'deploy/systemd/hookway.env.example'), 'utf8');
    const env = Object.fromEntries(
      example
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({ PORT: '8000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    // With the unit's NODE_OPTIONS too: node refuses to start on an option it does not allow there.
    const server = await serveBuilt(file, [], { ...env, ...serviceEnvironment(unit), PORT: '0' });
    try {
      expect((await fetch(`${server.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
