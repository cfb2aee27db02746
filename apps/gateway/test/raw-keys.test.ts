import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashClientKey, newClientKey, type FileClientKeyStore } from '@hookway/keys';
import { groupAtMessage, until, upgradeAnswer } from '@hookway/testkit';
import { addKey, counting, gatewayFixture, memoryStores, SECRET, type RunningGateway } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

describe('raw clients with a client key', () => {
  it('connect with ?key= or Authorization: Bearer and get the bot’s events, like a client that gave the secret', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys);
    const bySecret = await connect(g, `/ws?secret=${SECRET}`);
    const byQuery = await connect(g, `/ws?key=${key}`);
    const byHeader = await connect(g, '/ws', bearer(key));
    const body = groupAtMessage();
    await g.publish(body);
    for (const c of [bySecret, byQuery, byHeader]) expect(await c.waitForFrames(1)).toEqual([body]);
  });

  it('refuses a key that does not exist, or was revoked, with 401 invalid_key', async () => {
    const g = await start();
    const { key, name } = await addKey(g.stores.keys);
    const unknown = await upgradeAnswer(g.url(`/ws?key=${newClientKey().key}`));
    expect(unknown.status).toBe(401);
    expect(unknown.json).toMatchObject({ error: 'invalid_key', message: expect.stringContaining('revoked') });
    await g.stores.keys.revoke(name);
    const revoked = await upgradeAnswer(g.url('/ws'), bearer(key));
    expect(revoked.status).toBe(401);
    expect(revoked.json).toMatchObject({ error: 'invalid_key' });
    expect(revoked.headers['content-type']).toBe('application/json');
  });

  it('refuses something that is no key at all with 401 invalid_key, before any lookup', async () => {
    const stores = memoryStores();
    const keys = counting(stores.keys);
    const g = await start({}, { stores: { ...stores, keys } });
    for (const answer of [await upgradeAnswer(g.url('/ws?key=letmein')), await upgradeAnswer(g.url('/ws'), bearer('letmein'))]) {
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'invalid_key', message: expect.stringContaining('pnpm hookway keys add') });
    }
    expect(keys.lookups).toBe(0);
  });

  it('refuses an expired key with 401 expired_key, naming the key and when it expired', async () => {
    const g = await start();
    const { key, name } = await addKey(g.stores.keys, { expiresAtMs: Date.now() - 1000 });
    const answer = await upgradeAnswer(g.url(`/ws?key=${key}`));
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ error: 'expired_key', message: expect.stringMatching(new RegExp(`"${name}" expired at \\d{4}-`)) });
  });

  it('refuses a key for a bot this Hookway does not know with 401 unknown_bot, saying how to configure it', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys, { appid: '102999999' });
    const answer = await upgradeAnswer(g.url(`/ws?key=${key}`));
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({
      error: 'unknown_bot',
      message: expect.stringMatching(/bot 102999999.*102999999:<AppSecret>.*BOTS/),
    });
  });

  it('answers 503 while the keys cannot be read, and names the key in its log lines, never the key or its hash', async () => {
    const stores = memoryStores();
    const g = await start({}, { stores });
    const { key, name } = await addKey(stores.keys);
    const c = await connect(g, `/ws?key=${key}`);
    c.close();
    await c.closed;
    await until(() => g.gateway.stats().connections === 0, 'the server to see the socket closed');
    const lines = g.logs.join('');
    for (const message of ['client connected', 'client disconnected']) {
      const line = g.logs.find((l) => l.includes(message));
      expect(line, message).toContain(`"key":"${name}"`);
    }
    expect(lines).not.toContain(key);
    expect(lines).not.toContain(key.slice(4));
    expect(lines).not.toContain(hashClientKey(key));

    writeFileSync((stores.keys as FileClientKeyStore).path, '{not json');
    const broken = await upgradeAnswer(g.url(`/ws?key=${key}`));
    expect(broken.status).toBe(503);
    expect(broken.json).toMatchObject({ error: 'keys_unavailable' });
  });
});

describe('failed authentications per client address', () => {
  const failOnce = (g: RunningGateway, from: string) =>
    upgradeAnswer(g.url(`/ws?key=${newClientKey().key}`), { headers: { 'x-forwarded-for': from } });

  it('past AUTH_FAILURES_PER_MINUTE, the address gets 429 with Retry-After before any lookup, even with a good key', async () => {
    const stores = memoryStores();
    const keys = counting(stores.keys);
    const g = await start({ authFailuresPerMinute: 3 }, { stores: { ...stores, keys } });
    const { key } = await addKey(keys);
    for (let i = 0; i < 3; i++) expect((await failOnce(g, '203.0.113.5')).status).toBe(401);
    const lookups = keys.lookups;
    for (const path of [`/ws?key=${key}`, `/ws?key=${newClientKey().key}`, `/ws?secret=${SECRET}`, '/websocket']) {
      const answer = await upgradeAnswer(g.url(path), { headers: { 'x-forwarded-for': '203.0.113.5' } });
      expect(answer.status, path).toBe(429);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(answer.json).toMatchObject({ error: 'too_many_failures' });
    }
    expect(keys.lookups).toBe(lookups);
    expect(g.gateway.stats()).toMatchObject({ authThrottled: 4, clientKeyRefusals: 3 });
    // Another address (as the trusted proxy on loopback says) is not affected.
    expect((await upgradeAnswer(g.url(`/ws?key=${key}`), { headers: { 'x-forwarded-for': '203.0.113.6' } })).status).toBe(101);
  });

  it('takes the address from the TRUST_PROXY rule: an untrusted peer’s X-Forwarded-For is ignored', async () => {
    const g = await start({ authFailuresPerMinute: 2, trustProxy: [] });
    await failOnce(g, '203.0.113.7');
    await failOnce(g, '203.0.113.8');
    expect((await failOnce(g, '203.0.113.9')).status).toBe(429);
  });

  it('counts malformed keys and expired keys, but not a genuine key of a bot not configured here', async () => {
    const g = await start({ authFailuresPerMinute: 2 });
    const { key: ofUnknownBot } = await addKey(g.stores.keys, { appid: '102999999' });
    for (let i = 0; i < 3; i++) expect((await upgradeAnswer(g.url(`/ws?key=${ofUnknownBot}`))).status).toBe(401);
    const { key: expired } = await addKey(g.stores.keys, { expiresAtMs: 1 });
    expect((await upgradeAnswer(g.url(`/ws?key=${expired}`))).status).toBe(401);
    expect((await upgradeAnswer(g.url('/ws?key=nope'))).status).toBe(401);
    expect((await upgradeAnswer(g.url(`/ws?key=${ofUnknownBot}`))).status).toBe(429);
  });
});

describe('ALLOW_SECRET_IN_URL=false', () => {
  it('refuses the AppSecret in /ws and /websocket URLs with 403 naming the replacement; keys still work', async () => {
    const g = await start({ allowSecretInUrl: false });
    const cases: [string, RegExp][] = [
      [`/ws?secret=${SECRET}`, /Authorization: Bearer <client key>.*\/ws\?key=<client key>/],
      [`/ws/${SECRET}`, /Authorization: Bearer <client key>.*\/ws\?key=<client key>/],
      [`/websocket?secret=${SECRET}`, /\/websocket\?key=<client key>/],
    ];
    for (const [path, replacement] of cases) {
      const answer = await upgradeAnswer(g.url(path));
      expect(answer.status, path).toBe(403);
      expect(answer.json, path).toMatchObject({ error: 'secret_in_url_refused', message: expect.stringMatching(replacement) });
      expect(answer.body).not.toContain(SECRET);
    }
    const { key } = await addKey(g.stores.keys);
    expect((await upgradeAnswer(g.url('/ws'), bearer(key))).status).toBe(101);
    expect((await upgradeAnswer(g.url('/websocket'))).status).toBe(101);
  });

  it('by default keeps every secret form working', async () => {
    const g = await start();
    for (const path of [`/ws?secret=${SECRET}`, `/ws/${SECRET}`, `/websocket?secret=${SECRET}`, `/websocket/${SECRET}`]) {
      expect((await upgradeAnswer(g.url(path))).status, path).toBe(101);
    }
  });
});
