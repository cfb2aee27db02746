import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { FileClientKeyStore, hashClientKey, RedisClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import { RedisConnection } from '@hookway/redis/connection';
import { GatewayTestClient, groupAtMessage, startRedisServer, until, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { runHookway, startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET } from './harness.ts';

const APPID = '102000001';
const BOTS = `${APPID}:${SECRET}`;

const started: HookwayProcess[] = [];
const clients: WsCollector[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  redis = undefined;
});

const start = async (role: 'relay' | 'ingress' | 'gateway', env: Record<string, string>) => {
  const p = await startProcess(role, env);
  started.push(p);
  return p;
};
const connect = async (url: string, options?: ConstructorParameters<typeof WsCollector>[1]) => {
  const c = await WsCollector.connect(url, options);
  clients.push(c);
  return c;
};
const ws = (p: HookwayProcess, path: string) => `ws://127.0.0.1:${p.port}${path}`;

/** `pnpm hookway keys add` as a process: the key (stdout, alone), after checking it said nothing else there. */
async function addKey(env: Record<string, string>, name: string): Promise<string> {
  const run = await runHookway(['keys', 'add', '--bot', APPID, '--name', name], env);
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^hwk_[A-Za-z0-9_-]{43}\n$/);
  expect(run.stderr).toContain(`Created client key "${name}"`);
  expect(run.stderr).not.toContain(run.stdout.trim());
  return run.stdout.trim();
}

/**
 * Runs `pnpm hookway keys revoke <name>` and resolves with the time the revocation reached `store` (which the test polls
 * meanwhile). The 5 s are counted from there: the command's own start-up (tsx and a connection, seconds on a busy
 * machine) comes before it revokes anything.
 */
async function revokeKey(env: Record<string, string>, name: string, key: string, store: ClientKeyStore): Promise<number> {
  const hash = hashClientKey(key);
  expect(await store.findByHash(hash)).toBeDefined();
  let revokedAt: number | undefined;
  let stop = false;
  const watching = (async () => {
    while (!stop && revokedAt === undefined) {
      if ((await store.findByHash(hash)) === undefined) revokedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const run = await runHookway(['keys', 'revoke', name], env);
    expect(run.status, run.stderr).toBe(0);
    await until(() => revokedAt !== undefined, `the revocation of ${name} to reach the store`);
  } finally {
    stop = true;
    await watching;
  }
  return revokedAt!;
}

/** Waits for the close and says how long after `fromMs` it came; fails when there is none within 6 s. */
async function closedAfter(c: WsCollector, fromMs: number): Promise<{ code: number; afterMs: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('not closed within 6 s')), fromMs + 6000 - Date.now());
  });
  try {
    const { code } = await Promise.race([c.closed, late]);
    return { code, afterMs: Date.now() - fromMs };
  } finally {
    clearTimeout(timer);
  }
}

describe('pnpm hookway keys, as a process, against a running embedded relay (keys file)', { timeout: 60_000 }, () => {
  it('a key the command adds admits a client at once; revoking it closes the client with 4102 within 5 s', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hookway-e2e-keys-')), 'keys.json');
    const env = { CLIENT_KEYS_FILE: file, BOTS };
    const relay = await start('relay', env);
    const key = await addKey(env, 'home-pc');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const client = await connect(ws(relay, '/ws'), { headers: { authorization: `Bearer ${key}` } });
    const body = groupAtMessage();
    expect((await new WebhookSender(relay.baseUrl, SECRET).dispatch(body)).status).toBe(200);
    expect(await client.waitForFrames(1)).toEqual([body]);

    const list = await runHookway(['keys', 'list'], env);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/home-pc\s+102000001\s+all\s+all\s+never/);

    const revokedAt = await revokeKey(env, 'home-pc', key, new FileClientKeyStore(file));
    const closed = await closedAfter(client, revokedAt);
    expect(closed.code).toBe(4102);
    expect(closed.afterMs).toBeLessThan(5000);
    expect(relay.output()).toMatch(/"key":"home-pc".*client connected/);
    expect(relay.output()).not.toContain(key.slice(4));
  });

  it('exits 1 or 2 with the problem named, for a taken name and an unknown one', async () => {
    const env = { CLIENT_KEYS_FILE: join(mkdtempSync(join(tmpdir(), 'hookway-e2e-keys-')), 'keys.json'), BOTS };
    await addKey(env, 'taken');
    const taken = await runHookway(['keys', 'add', '--bot', APPID, '--name', 'taken'], env);
    expect(taken).toMatchObject({ status: 1, stdout: '', stderr: expect.stringContaining('a key named "taken" exists already') });
    const unknown = await runHookway(['keys', 'revoke', 'nope'], env);
    expect(unknown).toMatchObject({ status: 1, stderr: expect.stringContaining('no key named "nope"') });
    const badEvents = await runHookway(['keys', 'add', '--bot', APPID, '--name', 'x', '--events', 'NOPE'], env);
    expect(badEvents).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown event type NOPE. Valid event types') });
  });
});

describe('pnpm hookway keys, as a process, against Redis', { timeout: 60_000 }, () => {
  it('adds, lists and revokes in Redis when REDIS_URL is set', async () => {
    const url = new URL(inject('redisUrl'));
    url.pathname = '/12';
    const env = { REDIS_URL: url.toString(), BOTS };
    const name = `redis-${Date.now().toString(36)}`;
    await addKey(env, name);
    expect((await runHookway(['keys', 'list'], env)).stdout).toContain(name);
    expect((await runHookway(['keys', 'revoke', name], env)).status).toBe(0);
    expect((await runHookway(['keys', 'list'], env)).stdout).not.toContain(name);
  });

  it('two gateways over one Redis: a key added by the command works on both; revoking it closes its clients on both within 5 s', async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, BOTS, GATEWAY_CLOSE_GRACE_MS: '100' };
    const [ingress, one, two] = await Promise.all([start('ingress', env), start('gateway', env), start('gateway', env)]);
    const key = await addKey(env, 'shared');
    const raw = [await connect(ws(one, `/ws?key=${key}`)), await connect(ws(two, '/ws'), { headers: { authorization: `Bearer ${key}` } })];
    const session = await GatewayTestClient.connect(ws(two, '/websocket'));
    clients.push(session);
    session.identify(`QQBot ${key}`);
    expect((await session.next(2))[1]).toMatchObject({ t: 'READY' });
    const other = await connect(ws(one, `/ws?secret=${SECRET}`));

    const body = groupAtMessage();
    expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(body)).status).toBe(200);
    for (const c of [...raw, other]) expect(await c.waitForFrames(1)).toEqual([body]);

    const connection = new RedisConnection({ url: redis.url });
    expect(await connection.whenReady()).toBe(true);
    const revokedAt = await revokeKey(env, 'shared', key, new RedisClientKeyStore(connection)).finally(() => connection.close());
    for (const c of raw) {
      const closed = await closedAfter(c, revokedAt);
      expect(closed.code).toBe(4102);
      expect(closed.afterMs).toBeLessThan(5000);
    }
    const sessionClosed = await closedAfter(session, revokedAt);
    expect(sessionClosed.code).toBe(4004);
    expect(sessionClosed.afterMs).toBeLessThan(5000);
    expect(session.parsed().at(-1)).toMatchObject({ op: 9 });
    // The same key is refused from now on, on every replica; a client with the secret carries on.
    for (const g of [one, two]) {
      await expect(WsCollector.connect(ws(g, `/ws?key=${key}`))).rejects.toMatchObject({ statusCode: 401 });
    }
    const next = groupAtMessage();
    expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(next)).status).toBe(200);
    expect(await other.waitForFrames(2)).toEqual([body, next]);
  });
});
