import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { INGRESS_NODE_FLAGS, PRODUCTION_ENV, PRODUCTION_NODE_FLAGS } from '../../../scripts/node-flags.ts';
import { CLI_ENTRY, ROLE_ENTRY } from './cluster.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const compose = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
const packageJson = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };

function composeValidator(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(command[0]!, [...command.slice(1), 'version'], { stdio: 'ignore' });
      return command;
    } catch {
      // try the next one
    }
  }
  return undefined;
}
const validator = composeValidator();
if (!validator && process.env.CI) throw new Error('no docker compose / docker-compose: .ci/run should have installed it');

describe('deployment files', () => {
  it.each(['ingress', 'gateway'] as const)('docker-compose starts two %s replicas of the built file', (role) => {
    // The ingress with its own node options after the image's NODE_OPTIONS (scripts/node-flags.ts).
    const flags = role === 'ingress' ? INGRESS_NODE_FLAGS.map((flag) => `"${flag}", `).join('') : '';
    expect(compose.split(`command: ["node", ${flags}"dist/hookway.mjs", "${role}"]`).length - 1).toBe(2);
    expect(packageJson.scripts[`start:${role}`]).toBe(`node --import tsx ${ROLE_ENTRY[role]}`);
  });

  it('the image holds only node and dist/hookway.mjs, built by `pnpm run build`, and runs the relay by default', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const [build, final] = dockerfile.split(/^FROM .*\n/m).slice(1);
    expect(build).toContain('RUN pnpm run build');
    expect(final!.match(/^COPY .*/gm)).toEqual(['COPY --from=build --chown=node:node /src/dist/hookway.mjs ./dist/hookway.mjs']);
    expect(final).toContain('CMD ["node", "dist/hookway.mjs"]');
    // Every role and command in the image (docker-compose's too) starts with the production node options.
    expect(final).toMatch(new RegExp(`^ENV .*\\bNODE_OPTIONS=${PRODUCTION_NODE_FLAGS.join(' ')}$`, 'm'));
    for (const [name, value] of Object.entries(PRODUCTION_ENV)) expect(final).toMatch(new RegExp(`^ENV .*\\b${name}=${value}\\b`, 'm'));
    expect(packageJson.scripts.start).toBe(`node --import tsx ${ROLE_ENTRY.relay}`);
    expect(packageJson.scripts.build).toBe('node --import tsx scripts/build.ts');
  });

  it('the build stage copies every workspace package the lockfile installs', () => {
    const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (\S+)\/package\.json /gm)].map((m) => m[1]).sort();
    const lock = readFileSync(`${ROOT}pnpm-lock.yaml`, 'utf8');
    // pnpm 12 writes two YAML documents (its own pnpm version first): the workspace's importers are in the last.
    const start = lock.lastIndexOf('\nimporters:\n');
    const section = lock.slice(start, lock.indexOf('\npackages:\n', start));
    const importers = [...section.matchAll(/^ {2}(\S+):$/gm)].map((m) => m[1]!).filter((dir) => dir !== '.');
    expect(copied).toEqual([...new Set(importers)].sort());
  });

  it('`pnpm hookway` runs the command line the tests run', () => {
    expect(packageJson.scripts.hookway).toBe(`node --import tsx ${CLI_ENTRY}`);
  });

  it('nginx in docker-compose mounts the same files the end-to-end test runs', () => {
    expect(compose).toContain('./deploy/nginx/hookway.conf:');
    expect(compose).toContain('./deploy/nginx/upstreams.conf:');
  });

  it.runIf(validator)('docker compose accepts the file', () => {
    const out = execFileSync(validator![0]!, [...validator!.slice(1), '-f', `${ROOT}docker-compose.yml`, 'config', '--services'], {
      encoding: 'utf8',
    });
    expect(out.trim().split('\n').sort()).toEqual(['gateway-1', 'gateway-2', 'ingress-1', 'ingress-2', 'nginx', 'redis']);
  });

  it.runIf(validator)('docker compose accepts the Sentinel file on top, and the replicas then find Redis through the sentinels', () => {
    const files = ['-f', `${ROOT}docker-compose.yml`, '-f', `${ROOT}docker-compose.sentinel.yml`];
    const run = (...args: string[]) => execFileSync(validator![0]!, [...validator!.slice(1), ...files, ...args], { encoding: 'utf8' });
    expect(run('config', '--services').trim().split('\n').sort()).toEqual([
      'gateway-1',
      'gateway-2',
      'ingress-1',
      'ingress-2',
      'nginx',
      'redis',
      'redis-replica-1',
      'redis-replica-2',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
    ]);
    const config = run('config');
    expect(config.split('REDIS_SENTINELS: sentinel-1:26379,sentinel-2:26379,sentinel-3:26379').length - 1).toBe(4);
  });
});
