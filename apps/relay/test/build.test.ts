import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAtMessage, startRedisServer, until, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { SECRET } from './harness.ts';
import { buildAlone, runBuiltCommand, serveBuilt, type BuiltServer } from './built-file.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let file: string;
const servers: BuiltServer[] = [];
beforeAll(async () => {
  file = await buildAlone();
}, 60_000);
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serve(args: string[], env: Record<string, string> = {}): Promise<BuiltServer> {
  const server = await serveBuilt(file, args, env);
  servers.push(server);
  return server;
}

/** A signed event posted to `ingress` reaches a raw client of `gateway` (the same process for the relay). */
async function relays(ingress: BuiltServer, gateway: BuiltServer): Promise<void> {
  const client = await WsCollector.connect(`ws://127.0.0.1:${gateway.port}/ws?secret=${SECRET}`);
  try {
    const body = groupAtMessage({ content: 'from the built file' });
    expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(body)).status).toBe(200);
    const [frame] = await client.waitForFrames(1);
    expect(JSON.parse(frame!)).toMatchObject({ id: JSON.parse(body).id, d: { content: 'from the built file' } });
  } finally {
    client.close();
  }
}

describe('dist/hookway.mjs, alone in an empty directory, run by plain node', { timeout: 60_000 }, () => {
  it('is the relay without arguments: /healthz answers, a signed webhook reaches a raw client, SIGTERM exits 0', async () => {
    const relay = await serve([]);
    const health = await fetch(`${relay.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    await relays(relay, relay);
    expect(relay.output()).toContain('"role":"relay"');
    expect(await relay.stop()).toBe(0);
    expect(relay.output()).toMatch(/"msg":"stopped"/);
  });

  describe('the split roles against a redis-server', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    });
    afterAll(async () => {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      await redis.dispose();
    });

    it('`ingress` and `gateway` start and relay an event between them', async () => {
      const [ingress, gateway] = await Promise.all([
        serve(['ingress'], { REDIS_URL: redis.url }),
        serve(['gateway'], { REDIS_URL: redis.url }),
      ]);
      expect(ingress.output()).toContain('Hookway ingress listening');
      expect(gateway.output()).toContain('Hookway gateway listening');
      await until(async () => (await fetch(`${gateway.baseUrl}/readyz`)).status === 200, 'the gateway to be ready', 20);
      await relays(ingress, gateway);
    });
  });

  it('`--help` lists the roles and the commands, naming the built file, and exits 0', async () => {
    for (const flag of ['--help', 'help', '-h']) {
      const { status, stdout } = await runBuiltCommand(file, [flag]);
      expect(status).toBe(0);
      expect(stdout).toContain('Usage: node dist/hookway.mjs [role]');
      expect(stdout).toMatch(/^ {2}ingress /m);
      expect(stdout).toMatch(/^ {2}gateway /m);
      expect(stdout).toMatch(/^ {2}keys .*node dist\/hookway\.mjs keys --help/m);
      expect(stdout).not.toContain('pnpm');
    }
  });

  it('`keys list` is the command table’s keys command', async () => {
    const keys = join(mkdtempSync(join(tmpdir(), 'hookway-built-keys-')), 'keys.json');
    const { status, stdout } = await runBuiltCommand(file, ['keys', 'list'], { CLIENT_KEYS_FILE: keys });
    expect(status).toBe(0);
    expect(stdout).toContain(`No client keys in ${keys}. Create one: node dist/hookway.mjs keys add`);
  });

  it('is ASCII only, so V8 holds its source as a one-byte string (half the memory of a two-byte one)', () => {
    const nonAscii = readFileSync(file, 'utf8').match(/[\u0080-\uffff]/g);
    expect(nonAscii ?? []).toEqual([]);
  });

  it('an unknown command exits 2 naming it', async () => {
    const { status, stderr } = await runBuiltCommand(file, ['frobnicate']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^hookway: unknown command frobnicate\n/);
  });

  it('a role given arguments exits 2: settings are environment variables', async () => {
    const { status, stderr } = await runBuiltCommand(file, ['gateway', '--port', '1']);
    expect(status).toBe(2);
    expect(stderr).toContain('hookway gateway: unexpected argument --port');
  });
});

describe('pnpm build', () => {
  it('writes the file it is given (dist/hookway.mjs by default)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hookway-pnpm-build-')), 'hookway.mjs');
    const { stdout } = await promisify(execFile)('pnpm', ['run', 'build', out], { cwd: ROOT });
    expect(stdout).toContain(`built ${out}`);
    expect(existsSync(out)).toBe(true);
  }, 60_000);
});
