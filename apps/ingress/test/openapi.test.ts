import { createServer, request, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotDirectory, createQqApi, MemoryBotRegistry } from '@hookway/bots';
import { AppSecret } from '@hookway/protocol';
import { createProxyTrust } from '@hookway/runtime';
import { FakeQqPlatform } from '@hookway/testkit';
import { createOpenApi } from '../src/openapi.ts';
import { ingressFixture, SECRET, type RunningIngress } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

/** A bot Hookway learned from a verified webhook (kept in the BotRegistry), not configured. */
const LEARNED = { appid: '102000009', secret: 'LearnedSecret0009' };

let fake: FakeQqPlatform;
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  await fake.stop();
});

const { start: startIngress } = ingressFixture();
/** The ingress with Hookway's OpenAPI handler in front of the fake platform (or `upstream` instead). */
const start = async (options: { publicUrl?: string; upstream?: string; forward?: boolean; trustProxy?: string[] } = {}) => {
  // BotDirectory's store of learned bots (the bus in production).
  const learned = new MemoryBotRegistry();
  await learned.remember(LEARNED.appid, AppSecret.of(LEARNED.secret));
  const trustProxy = options.trustProxy ?? ['loopback'];
  return startIngress(
    { trustProxy },
    {
      openApi: (logger) =>
        createOpenApi({
          apiBase: options.upstream ?? fake.baseUrl,
          tokenUrl: `${options.upstream ?? fake.baseUrl}/app/getAppAccessToken`,
          publicUrl: options.publicUrl ?? '',
          forward: options.forward ?? true,
          directory: new BotDirectory(
            new Map([[BOT.appid, AppSecret.of(BOT.secret)]]),
            learned,
            createQqApi({ tokenUrl: fake.tokenUrl, apiBase: fake.baseUrl }),
          ),
          trust: createProxyTrust(trustProxy),
          logger,
        }),
    },
  );
};

/** A raw request with any request target (absolute-form, `*@host`…), which fetch cannot send. */
const send = (r: RunningIngress, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string, localAddress?: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: r.port, method, path, headers, ...(localAddress ? { localAddress } : {}) }, (answer) => {
      let text = '';
      answer.on('data', (d) => (text += d));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });

describe('gateway discovery', () => {
  it('answers /gateway and /gateway/bot with a url pointing at itself', async () => {
    const r = await start();
    expect(await (await fetch(`${r.baseUrl}/gateway`)).json()).toEqual({ url: `ws://127.0.0.1:${r.port}/websocket` });
    const bot = (await (
      await fetch(`${r.baseUrl}/gateway/bot`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'bot.example.com' } })
    ).json()) as Record<string, unknown>;
    expect(bot).toMatchObject({ url: 'wss://bot.example.com/websocket', shards: 1 });
    expect(bot.session_start_limit).toMatchObject({ max_concurrency: 1 });
    // Behind a proxy that turned an HTTPS_PROXY request into origin-form, the Host is the platform's: never answer with it.
    const viaProxy = await fetch(`${r.baseUrl}/gateway/bot`, { headers: { 'x-forwarded-host': 'api.sgroup.qq.com' } });
    expect(viaProxy.status).toBe(503);
    expect(await viaProxy.json()).toMatchObject({ error: 'public_url_required' });
    const pinned = await start({ publicUrl: 'https://hook.example.com' });
    expect(await (await fetch(`${pinned.baseUrl}/gateway`)).json()).toEqual({ url: 'wss://hook.example.com/websocket' });
    expect(fake.calls).toEqual([]);
  });
});

describe('gateway discovery behind proxies (TRUST_PROXY)', () => {
  it('believes X-Forwarded-Host/-Proto only from a trusted proxy address', async () => {
    const r = await start({ trustProxy: ['127.0.0.1'] });
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
    const fromProxy = await send(r, 'GET', '/gateway', forwarded, undefined, '127.0.0.1');
    expect(JSON.parse(fromProxy.text)).toEqual({ url: 'wss://evil.example/websocket' });
    // Any other address (127.0.0.2 is loopback too, but not listed) names its own host: ignored, the Host header wins.
    for (const path of ['/gateway', '/gateway/bot']) {
      const fromClient = await send(r, 'GET', path, forwarded, undefined, '127.0.0.2');
      expect(JSON.parse(fromClient.text), path).toMatchObject({ url: `ws://127.0.0.1:${r.port}/websocket` });
    }
  });

  it('believes nobody with TRUST_PROXY=none', async () => {
    const r = await start({ trustProxy: [] });
    const res = await send(r, 'GET', '/gateway/bot', {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      host: 'hook.example:8000',
    });
    expect(JSON.parse(res.text)).toMatchObject({ url: 'ws://hook.example:8000/websocket' });
  });

  it('answers other methods on the discovery and token paths with 405, forwarding nothing', async () => {
    const r = await start();
    for (const [method, path, allow] of [
      ['POST', '/gateway', 'GET, HEAD'],
      ['DELETE', '/gateway/bot', 'GET, HEAD'],
      ['GET', '/app/getAppAccessToken', 'POST'],
    ] as const) {
      const res = await fetch(`${r.baseUrl}${path}`, { method });
      expect(res.status, path).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error: 'method_not_allowed' });
    }
    expect(fake.calls).toEqual([]);
  });
});

describe('what never leaves the server', () => {
  it.each([
    ['POST', `/webhok?secret=${SECRET}`, /POST \/webhook/],
    ['POST', `/Webhook/${SECRET}`, /POST \/webhook/],
    ['POST', `/webhook/${SECRET}/x`, /POST \/webhook/],
    ['GET', `/ws/${SECRET}/x`, /\/ws \(raw mode\)/],
    ['GET', '/', /^no such endpoint: Hookway serves/],
    ['GET', '/wp-login.php', /^no such endpoint: Hookway serves/],
    ['GET', '/metrics', /^no such endpoint: Hookway serves/],
    ['POST', `/callback?secret=${SECRET}`, /^no such endpoint: Hookway serves/],
  ])('%s %s: a Hookway 404 (with a hint for a typo), nothing upstream, no secret echoed or logged', async (method, path, message) => {
    const r = await start();
    const res = await fetch(`${r.baseUrl}${path}`, { method, ...(method === 'POST' ? { body: '{"op":13,"d":{}}' } : {}) });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'not_found', message: expect.stringMatching(message) });
    expect(text).not.toContain(SECRET);
    expect(r.logs.join('')).not.toContain(SECRET);
    expect(fake.calls).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ requestsNotFound: 1, openApiForwarded: 0 });
  });

  it.each([
    ['a secret parameter', `/v2/groups/C9F778FE/messages?secret=${SECRET}`],
    ['any secret parameter', '/channels/100010/messages?secret=whatever'],
    ['a configured bot’s secret in the path', `/v2/users/${SECRET}/messages`],
    ['a learned bot’s secret in the query', `/users/@me/guilds?before=${LEARNED.secret}`],
    ['a percent-encoded secret', `/channels/${SECRET.replace('D', '%44')}/messages`],
    ['a secret on the token path', `/app/getAppAccessToken?secret=${SECRET}`],
  ])('refuses to forward a URL carrying %s (400 secret_in_url)', async (_case, path) => {
    const r = await start();
    const res = await fetch(`${r.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `QQBot ${fake.tokenOf(BOT.appid)}`, 'content-type': 'application/json' },
      body: '{"content":"hi"}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'secret_in_url', message: expect.stringMatching(/never forwards/) });
    expect(fake.calls).toEqual([]);
    expect(r.logs.join('')).not.toContain(SECRET);
    expect(r.ingress.stats()).toMatchObject({ openApiSecretsRefused: 1, openApiForwarded: 0 });
  });

  it('refuses to send Bot <appid>.<AppSecret> upstream when no token can be had for it', async () => {
    const r = await start();
    fake.tokenOutage = true;
    const res = await fetch(`${r.baseUrl}/channels/100010/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${BOT.appid}.${BOT.secret}`, 'content-type': 'application/json' },
      body: '{"content":"pong"}',
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: 'token_unavailable' });
    expect(fake.callsTo('/channels')).toEqual([]);
    // A legacy bot token that is no AppSecret Hookway knows is the SDK's business: it passes unchanged.
    await fetch(`${r.baseUrl}/channels/100010/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${BOT.appid}.legacyBotToken1` },
      body: '{}',
    });
    expect(fake.callsTo('/channels')[0]?.authorization).toBe(`Bot ${BOT.appid}.legacyBotToken1`);
  });

  it('forwards nothing with OPENAPI_PROXY=false, and still answers gateway discovery', async () => {
    const r = await start({ forward: false });
    for (const [method, path] of [
      ['POST', '/v2/groups/C9F778FE/messages'],
      ['GET', '/users/@me'],
      ['POST', '/app/getAppAccessToken'],
    ] as const) {
      const res = await fetch(`${r.baseUrl}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'openapi_proxy_disabled', message: expect.stringMatching(/OPENAPI_PROXY=false/) });
    }
    expect((await fetch(`${r.baseUrl}/gateway`)).status).toBe(200);
    expect(fake.calls).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ openApiDisabled: 3, openApiForwarded: 0 });
  });
});

describe('pass-through', () => {
  it('forwards other OpenAPI calls to QQ_API_BASE unchanged, routing absolute-form (HTTPS_PROXY) requests by path only', async () => {
    const r = await start();
    const token = fake.tokenOf(BOT.appid);
    const res = await fetch(`${r.baseUrl}/v2/groups/C9F778FE/messages`, {
      method: 'POST',
      headers: {
        authorization: `QQBot ${token}`,
        'content-type': 'application/json',
        cookie: 'panel=1',
        'x-forwarded-for': '10.9.8.7',
        'x-union-appid': BOT.appid,
      },
      body: JSON.stringify({ content: '你好', msg_type: 0, msg_id: 'ROBOT1.0_x' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-tps-trace-id')).toBe('fake-trace');
    expect(await res.json()).toMatchObject({ id: expect.any(String) });
    const forwarded = fake.callsTo('/v2/groups/C9F778FE/messages')[0]!;
    expect(forwarded).toMatchObject({ authorization: `QQBot ${token}`, body: { content: '你好', msg_id: 'ROBOT1.0_x' } });
    expect(forwarded.headers['x-union-appid']).toBe(BOT.appid);
    expect([forwarded.headers.cookie, forwarded.headers['x-forwarded-for']]).toEqual([undefined, undefined]);

    for (const host of ['api.sgroup.qq.com', 'evil.example']) {
      const answer = await send(r, 'GET', `https://${host}/users/@me`, { host, authorization: `QQBot ${token}` });
      expect(answer.status).toBe(200);
    }
    expect(fake.callsTo('/users/@me').length).toBeGreaterThanOrEqual(2);
    expect(fake.calls.every((c) => c.host === new URL(fake.baseUrl).host)).toBe(true);
  });

  it('is never an open proxy: targets that try to name another host are refused or stay on QQ_API_BASE', async () => {
    let evilHits = 0;
    const evil = createServer((_req, res) => {
      evilHits++;
      res.end('evil');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilPort = (evil.address() as AddressInfo).port;
    const r = await start();
    for (const target of [
      `*@127.0.0.1:${evilPort}/internal`,
      `*:x@127.0.0.1:${evilPort}/`,
      `*.evil.example/x`,
      `//127.0.0.1:${evilPort}/x`,
      `http://127.0.0.1:${evilPort}@127.0.0.1:${evilPort}/x`,
      `/users/@127.0.0.1:${evilPort}`,
      `/x/..//127.0.0.1:${evilPort}/y`,
    ]) {
      const { status } = await send(r, 'GET', target, { authorization: `Bot ${BOT.appid}.${BOT.secret}` });
      expect([400, 401, 404], target).toContain(status);
    }
    expect(evilHits).toBe(0);
    expect(fake.calls.every((c) => c.host === new URL(fake.baseUrl).host)).toBe(true);
    await new Promise((resolve) => evil.close(resolve));
  });

  it('routes on the normalised path (/gateway/../app/getAppAccessToken is the token call)', async () => {
    const r = await start();
    const body = JSON.stringify({ appId: BOT.appid, clientSecret: BOT.secret });
    const answer = await send(
      r,
      'POST',
      '/gateway/../app/getAppAccessToken',
      { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      body,
    );
    expect(JSON.parse(answer.text)).toMatchObject({ access_token: fake.tokenOf(BOT.appid) });
  });

  it('forwards /app/getAppAccessToken to QQ_TOKEN_URL and swaps Bot <appid>.<AppSecret> for a real token upstream', async () => {
    const r = await start();
    const answer = (await (
      await fetch(`${r.baseUrl}/app/getAppAccessToken`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appId: BOT.appid, clientSecret: BOT.secret }),
      })
    ).json()) as { access_token: string; expires_in: string };
    expect(answer.access_token).toBe(fake.tokenOf(BOT.appid));
    expect(answer.expires_in).toMatch(/^\d+$/);
    const sent = await fetch(`${r.baseUrl}/channels/100010/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${BOT.appid}.${BOT.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'pong', msg_id: '08ef' }),
    });
    expect(sent.status).toBe(200);
    expect(fake.callsTo('/channels/100010/messages')[0]!.authorization).toBe(`QQBot ${fake.tokenOf(BOT.appid)}`);
  });

  it('answers an unreachable upstream with a JSON 502, never a hang or an HTML page', async () => {
    // Port 9 (discard) on loopback: nothing listens there.
    const r = await start({ upstream: 'http://127.0.0.1:9' });
    for (const path of ['/v2/groups/C9F778FE/messages', '/channels/elsewhere%ZZ/messages']) {
      const res = await fetch(`${r.baseUrl}${path}`, { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(502);
      expect(await res.json()).toMatchObject({ error: 'upstream_unreachable' });
    }
    // Logged with its method and path (never its query), so the failing call can be told apart.
    const failures = r.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'OpenAPI pass-through failed');
    expect(failures.map((l) => [l.method, l.path, l.client])).toEqual([
      ['POST', '/v2/groups/C9F778FE/messages', '127.0.0.1'],
      ['POST', '/channels/elsewhere%ZZ/messages', '127.0.0.1'],
    ]);
    expect(r.ingress.stats()).toMatchObject({ openApiForwarded: 2, openApiForwardsFailed: 2 });
  });
});

describe('what botpy needs of the answers', () => {
  // botpy (botpy/http.py _handle_response) parses a body as JSON only when Content-Type is exactly application/json.
  it('answers each of botpy’s calls with Content-Type exactly application/json: its own answers, and the platform’s passed through', async () => {
    const r = await start();
    const token = await fetch(`${r.baseUrl}/app/getAppAccessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appId: BOT.appid, clientSecret: BOT.secret }),
    });
    const { access_token } = (await token.clone().json()) as { access_token: string };
    const auth = { authorization: `QQBot ${access_token}`, 'x-union-appid': BOT.appid };
    const answers = [
      token,
      await fetch(`${r.baseUrl}/users/@me`, { headers: auth }),
      await fetch(`${r.baseUrl}/gateway/bot`, { headers: auth }),
      await fetch(`${r.baseUrl}/v2/groups/GROUPOPENID/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ group_openid: 'GROUPOPENID', msg_type: 0, content: 'echo', msg_id: 'm1', msg_seq: 1, embed: null }),
      }),
      // Hookway's own refusals too: a path outside the OpenAPI.
      await fetch(`${r.baseUrl}/nowhere`, { headers: auth }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 404]);
    for (const a of answers) expect(a.headers.get('content-type'), a.url).toBe('application/json');
  });
});
