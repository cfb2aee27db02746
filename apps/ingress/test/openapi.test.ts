import { createServer, request, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BotDirectory, createQqApi, MemoryBotRegistry } from '@hookway/bots';
import { AppSecret } from '@hookway/protocol';
import { FakeQqPlatform } from '@hookway/testkit';
import { createOpenApi } from '../src/openapi.ts';
import { ingressFixture, SECRET, type RunningIngress } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

/** BotDirectory's store of learned bots (the bus in production): none here, the bot is configured. */
const noLearnedBots = new MemoryBotRegistry();

let fake: FakeQqPlatform;
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  await fake.stop();
});

const { start: startIngress } = ingressFixture();
/** The ingress with Hookway's OpenAPI handler in front of the fake platform (or `upstream` instead). */
const start = (options: { publicUrl?: string; upstream?: string } = {}) =>
  startIngress(
    {},
    {
      openApi: (logger) =>
        createOpenApi({
          apiBase: options.upstream ?? fake.baseUrl,
          tokenUrl: `${options.upstream ?? fake.baseUrl}/app/getAppAccessToken`,
          publicUrl: options.publicUrl ?? '',
          directory: new BotDirectory(
            new Map([[BOT.appid, AppSecret.of(BOT.secret)]]),
            noLearnedBots,
            createQqApi({ tokenUrl: fake.tokenUrl, apiBase: fake.baseUrl }),
          ),
          logger,
        }),
    },
  );

/** A raw request with any request target (absolute-form, `*@host`…), which fetch cannot send. */
const send = (r: RunningIngress, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: r.port, method, path, headers }, (answer) => {
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
    for (const path of ['/nope', '/elsewhere%ZZ']) {
      const res = await fetch(`${r.baseUrl}${path}`);
      expect(res.status, path).toBe(502);
      expect(await res.json()).toMatchObject({ error: 'upstream_unreachable' });
    }
    expect(r.logs.join('')).toMatch(/OpenAPI pass-through failed/);
  });
});
