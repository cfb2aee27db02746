import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashClientKey, newClientKey } from '@hookway/keys';
import type { StatusData } from '@hookway/status';
import { FakeQqPlatform, GatewayTestClient, groupAtMessage, until, WebhookSender } from '@hookway/testkit';
import { relayFixture, SECRET, startRelay, type RunningRelay } from './harness.ts';

const TOKEN = 'status-test-token-0123456789abcdef';
const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

const { start, connect } = relayFixture();
let dir: string;
let fake: FakeQqPlatform;
const gatewayClients: GatewayTestClient[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookway-status-'));
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  for (const c of gatewayClients.splice(0)) c.ws.terminate();
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

const withStatus = (overrides: Parameters<typeof start>[0] = {}) =>
  start({
    adminToken: TOKEN,
    clientKeysFile: join(dir, 'keys.json'),
    bots: new Map([[BOT.appid, BOT.secret]]),
    qqApiBase: fake.baseUrl,
    qqTokenUrl: fake.tokenUrl,
    ...overrides,
  });

const get = (r: RunningRelay, path: string, headers: Record<string, string> = {}) =>
  fetch(`${r.baseUrl}${path}`, { headers, redirect: 'manual' });
const login = (r: RunningRelay, token: string, headers: Record<string, string> = {}) =>
  fetch(`${r.baseUrl}/status/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });
/** The `name=value` part of the login's Set-Cookie. */
const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;
const data = async (r: RunningRelay) => {
  const res = await get(r, '/status/data', { authorization: `Bearer ${TOKEN}` });
  expect(res.status).toBe(200);
  return (await res.json()) as StatusData;
};

describe('the status page is off without ADMIN_TOKEN', () => {
  it.each(['GET /status', 'GET /status/data', 'POST /status/login', 'POST /status/logout'])('%s answers 404', async (request) => {
    const r = await start();
    const [method, path] = request.split(' ');
    const res = await fetch(`${r.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining('ADMIN_TOKEN') });
  });
});

describe('access to the status page', () => {
  it('shows a login form, and answers the data 401 without a credential', async () => {
    const r = await withStatus();
    const page = await get(r, '/status');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain('name="token"');
    expect(html).not.toContain('id="replicas"');
    const res = await get(r, '/status/data');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('logs in with the token: an HttpOnly, SameSite=Strict cookie derived from it opens the page and the data', async () => {
    const r = await withStatus();
    const res = await login(r, TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('../status');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^hookway_status=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = cookieOf(res);
    expect(await (await get(r, '/status', { cookie })).text()).toContain('id="replicas"');
    expect((await get(r, '/status/data', { cookie })).status).toBe(200);
    expect((await get(r, '/status/data', { cookie: `${cookie}x` })).status).toBe(401);

    // Every replica with the same token accepts it (behind a load balancer the next request may land elsewhere).
    const other = await startRelay({ adminToken: TOKEN });
    try {
      expect((await get(other, '/status/data', { cookie })).status).toBe(200);
    } finally {
      await other.close();
    }

    const out = await fetch(`${r.baseUrl}/status/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^hookway_status=; Path=\/; Max-Age=0;/);
  });

  it('marks the cookie Secure when a trusted proxy says the request came over https, and only then', async () => {
    const trusted = await withStatus();
    expect((await login(trusted, TOKEN, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).toContain('; Secure');
    expect((await login(trusted, TOKEN)).headers.get('set-cookie')).not.toContain('Secure');
    const untrusting = await startRelay({ adminToken: TOKEN, trustProxy: [] });
    try {
      expect((await login(untrusting, TOKEN, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')).not.toContain('Secure');
    } finally {
      await untrusting.close();
    }
  });

  it('takes Authorization: Bearer on the data, and refuses a wrong one', async () => {
    const r = await withStatus();
    expect((await get(r, '/status/data', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const wrong = await get(r, '/status/data', { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('throttles an address that keeps trying wrong tokens (AUTH_FAILURES_PER_MINUTE), even its right one', async () => {
    const r = await withStatus({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      const res = await login(r, `wrong-token-${i}-0123456789`);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('login-error');
    }
    const blocked = await login(r, TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get(r, '/status/data', { authorization: `Bearer ${TOKEN}` })).status).toBe(429);
  });

  it('refuses a cross-site login or logout (another site’s form) without counting it against the address', async () => {
    const r = await withStatus({ authFailuresPerMinute: 2 });
    for (const site of ['cross-site', 'same-site']) {
      for (let i = 0; i < 3; i++) {
        const res = await login(r, `wrong-token-${i}-0123456789`, { 'sec-fetch-site': site });
        expect(res.status).toBe(403);
        expect(res.headers.get('set-cookie')).toBeNull();
      }
      const logout = await fetch(`${r.baseUrl}/status/logout`, { method: 'POST', headers: { 'sec-fetch-site': site }, redirect: 'manual' });
      expect(logout.status).toBe(403);
      expect(logout.headers.get('set-cookie')).toBeNull();
    }
    // The page's own form: same-origin (or an old browser that says nothing).
    expect((await login(r, TOKEN, { 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    expect((await login(r, TOKEN, { 'sec-fetch-site': 'none' })).status).toBe(303);
    expect((await login(r, TOKEN)).status).toBe(303);
  });

  it('refuses an oversized login body and other methods', async () => {
    const r = await withStatus();
    const big = await fetch(`${r.baseUrl}/status/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${'a'.repeat(10_000)}`,
    });
    expect(big.status).toBe(413);
    expect((await fetch(`${r.baseUrl}/status`, { method: 'POST' })).status).toBe(405);
    expect((await get(r, '/status/login')).status).toBe(405);
  });
});

describe('what the status page shows', () => {
  it('per bot: verified events, validations, connected raw and gateway clients with key names, rejections — never a secret', async () => {
    const r = await withStatus();
    const key = newClientKey().key;
    await r.relay.stores.keys.add({ name: 'home-pc', appid: BOT.appid, hash: hashClientKey(key), createdAtMs: Date.now() });

    const sender = new WebhookSender(r.baseUrl, SECRET);
    expect((await sender.validate('plain-token-1', '1725000000')).status).toBe(200);
    expect((await sender.dispatch(groupAtMessage(), { headers: { 'x-bot-appid': BOT.appid } })).status).toBe(200);
    expect((await sender.dispatch(groupAtMessage(), { signature: '0'.repeat(128) })).status).toBe(401);
    expect((await sender.post('{}', { 'x-bot-appid': '999999' }, '/webhook')).status).toBe(404);

    const raw = await connect(r, `/ws?key=${key}`);
    const session = await GatewayTestClient.connect(r.wsUrl('/websocket'));
    gatewayClients.push(session);
    session.identify(`QQBot ${fake.tokenOf(BOT.appid)}`);
    await session.next(2);

    let seen: StatusData | undefined;
    await until(async () => ((seen = await data(r)).bots[0]?.clientsTotal ?? 0) === 2, 'both clients on the status data');
    const [bot] = seen!.bots;
    expect(seen!.bots).toHaveLength(1);
    expect(bot).toMatchObject({
      bot: expect.stringMatching(/^bot:[0-9a-f]{8}$/),
      appid: BOT.appid,
      lastEvent: { type: 'GROUP_AT_MESSAGE_CREATE' },
      eventsLast5Min: 1,
      validations: 1,
    });
    expect(bot!.clients.map((c) => [c.mode, c.address, c.key]).sort()).toEqual([
      ['gateway', '127.0.0.1', undefined],
      ['raw', '127.0.0.1', 'home-pc'],
    ]);
    expect(bot!.rejections).toMatchObject([{ reason: 'bad_signature', address: '127.0.0.1' }]);
    expect(seen!.unattributed).toMatchObject([{ reason: 'unknown_bot', address: '127.0.0.1' }]);
    expect(seen!.replicas).toMatchObject([{ role: 'relay', health: 'ready', self: true, clients: 2 }]);
    const text = JSON.stringify(seen);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(key);

    raw.ws.close();
    await until(async () => (await data(r)).bots[0]?.clientsTotal === 1, 'the raw client to leave the status data');
  });
});
