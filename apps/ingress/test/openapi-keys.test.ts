import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotDirectory, createQqApi, MemoryBotRegistry } from '@hookway/bots';
import { FileClientKeyStore, newClientKey, type ClientKeyRecord, type ClientKeyStore } from '@hookway/keys';
import { AppSecret } from '@hookway/protocol';
import { AuthFailureThrottle, createProxyTrust } from '@hookway/runtime';
import { FakeQqPlatform } from '@hookway/testkit';
import { createOpenApi } from '../src/openapi.ts';
import { ingressFixture, SECRET } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };
const GROUP = '82B3406CB35C23E1071C8D6EC61C6064';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const REPLY = { msg_type: 0, content: 'pong', msg_id: 'ROBOT1.0_abc', msg_seq: 1 };

let fake: FakeQqPlatform;
let keys: ClientKeyStore;
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
  keys = new FileClientKeyStore(join(mkdtempSync(join(tmpdir(), 'hookway-openapi-keys-')), 'keys.json'));
});
afterEach(async () => {
  await fake.stop();
  await keys.close();
});

const { start: startIngress } = ingressFixture();
const start = (authFailures?: AuthFailureThrottle) =>
  startIngress(
    {},
    {
      openApi: (logger) =>
        createOpenApi({
          apiBase: fake.baseUrl,
          tokenUrl: fake.tokenUrl,
          publicUrl: '',
          forward: true,
          directory: new BotDirectory(
            new Map([[BOT.appid, AppSecret.of(BOT.secret)]]),
            new MemoryBotRegistry(),
            createQqApi({ tokenUrl: fake.tokenUrl, apiBase: fake.baseUrl }),
          ),
          trust: createProxyTrust(['loopback']),
          logger,
          keys,
          neverForward: [ADMIN_TOKEN, METRICS_TOKEN],
          ...(authFailures ? { authFailures } : {}),
        }),
    },
  );

let counter = 0;
async function addKey(options: Partial<ClientKeyRecord> = {}): Promise<{ key: string; name: string }> {
  const { key, hash } = newClientKey();
  const name = `http-key-${++counter}`;
  await keys.add({ name, appid: BOT.appid, hash, createdAtMs: Date.now(), ...options });
  return { key, name };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const apiCalls = () => fake.calls.filter((c) => c.path !== '/app/getAppAccessToken');

describe('the OpenAPI over plain HTTP with a client key (Authorization: Bearer hwk_…)', () => {
  it('forwards a group reply with Hookway’s token and the key’s appid; the key never goes upstream', async () => {
    const r = await start();
    const { key } = await addKey();
    const res = await fetch(`${r.baseUrl}/v2/groups/${GROUP}/messages`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify(REPLY),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: expect.any(String) });
    const [sent] = apiCalls();
    expect(sent).toMatchObject({ method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: REPLY });
    expect(sent!.authorization).toBe(`QQBot ${fake.tokenOf(BOT.appid)}`);
    expect(sent!.headers['x-union-appid']).toBe(BOT.appid);
    expect(JSON.stringify(fake.calls)).not.toContain(key);
    const me = await fetch(`${r.baseUrl}/users/@me?x=1`, { headers: bearer(key) });
    expect(me.status).toBe(200);
    expect(apiCalls().at(-1)!.path).toBe('/users/@me?x=1');
  });

  it('answers 401 for an unknown, revoked, expired or malformed key and 401 unknown_bot for a key of a bot it does not know', async () => {
    const r = await start();
    const revoked = await addKey();
    await keys.revoke(revoked.name);
    const expired = await addKey({ expiresAtMs: Date.now() - 1000 });
    const other = await addKey({ appid: '102000777' });
    for (const [key, error] of [
      [newClientKey().key, 'invalid_key'],
      [revoked.key, 'invalid_key'],
      [expired.key, 'expired_key'],
      ['hwk_short', 'invalid_key'],
      [other.key, 'unknown_bot'],
    ] as const) {
      const res = await fetch(`${r.baseUrl}/v2/groups/${GROUP}/messages`, { method: 'POST', headers: bearer(key), body: '{}' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error });
    }
    expect(fake.calls).toEqual([]);
  });

  it('counts wrong keys as failed authentications: past the limit, 429 before any lookup', async () => {
    const r = await start(new AuthFailureThrottle(2));
    const { key } = await addKey();
    for (let i = 0; i < 2; i++) {
      expect((await fetch(`${r.baseUrl}/users/@me`, { headers: bearer(newClientKey().key) })).status).toBe(401);
    }
    const throttled = await fetch(`${r.baseUrl}/users/@me`, { headers: bearer(key) });
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toMatchObject({ error: 'too_many_failures' });
    expect(fake.calls).toEqual([]);
  });

  it('lets a read-only key GET but answers 403 forbidden to every method that acts', async () => {
    const r = await start();
    const { key } = await addKey({ readOnly: true });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await fetch(`${r.baseUrl}/v2/groups/${GROUP}/messages`, { method, headers: bearer(key), body: '{}' });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'forbidden' });
    }
    expect(fake.calls).toEqual([]);
    expect((await fetch(`${r.baseUrl}/users/@me`, { headers: bearer(key) })).status).toBe(200);
  });

  it('refuses a key on the token path (there is no token to fetch with it), sending nothing', async () => {
    const r = await start();
    const { key } = await addKey();
    const res = await fetch(`${r.baseUrl}/app/getAppAccessToken`, { method: 'POST', headers: bearer(key), body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'key_not_for_token' });
    expect(fake.calls).toEqual([]);
  });

  it('refuses a token request that carries a client key as its clientSecret (an SDK given the key for its secret), sending nothing', async () => {
    const r = await start();
    const { key } = await addKey();
    const res = await fetch(`${r.baseUrl}/app/getAppAccessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: BOT.appid, clientSecret: key }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'key_not_for_token' });
    expect(fake.calls).toEqual([]);
  });

  it('leaves the SDK form alone: QQBot <token> fetched through Hookway still works', async () => {
    const r = await start();
    const token = (await (
      await fetch(`${r.baseUrl}/app/getAppAccessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appId: BOT.appid, clientSecret: BOT.secret }),
      })
    ).json()) as { access_token: string };
    const res = await fetch(`${r.baseUrl}/users/@me`, { headers: { authorization: `QQBot ${token.access_token}` } });
    expect(res.status).toBe(200);
  });
});

describe('a client key in any other form', () => {
  it('is never sent upstream: a malformed Bearer, QQBot <key>, Bot <appid>.<key> or the key in the query are refused', async () => {
    const r = await start();
    const { key } = await addKey();
    for (const [path, authorization] of [
      ['/users/@me', `Bearer ${key} extra`],
      ['/users/@me', `QQBot ${key}`],
      ['/users/@me', `Bot ${BOT.appid}.${key}`],
      [`/users/@me?key=${key}`, undefined],
    ] as const) {
      const res = await fetch(`${r.baseUrl}${path}`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_key' });
    }
    for (const headers of [{ 'x-api-key': key }, { ...bearer(key), 'x-api-key': key }]) {
      const res = await fetch(`${r.baseUrl}/users/@me`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'invalid_key' });
    }
    expect(JSON.stringify(fake.calls)).not.toContain(key);
  });
});

describe('ADMIN_TOKEN and METRICS_TOKEN', () => {
  it('are never sent upstream, in any header or the URL (a script that sends its /status/data bearer everywhere)', async () => {
    const r = await start();
    for (const token of [ADMIN_TOKEN, METRICS_TOKEN]) {
      for (const [path, headers] of [
        ['/users/@me', { authorization: `Bearer ${token}` }],
        ['/users/@me', { 'x-anything': token }],
        [`/users/@me?t=${token}`, {}],
      ] as const) {
        const res = await fetch(`${r.baseUrl}${path}`, { headers });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'token_not_forwarded' });
      }
    }
    expect(JSON.stringify(fake.calls)).not.toContain('-token-');
  });
});
