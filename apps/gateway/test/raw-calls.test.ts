import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQqApi } from '@hookway/bots';
import type { Config } from '@hookway/runtime';
import { FakeQqPlatform, groupAtMessage, until, type WsCollector } from '@hookway/testkit';
import { addKey, BOT, gatewayFixture, OTHER_SECRET, SECRET } from './gateway-fixture.ts';

const fixture = gatewayFixture();
const GROUP = '82B3406CB35C23E1071C8D6EC61C6064';
const REPLY = { msg_type: 0, content: 'pong', msg_id: 'ROBOT1.0_abc', msg_seq: 1 };
let platform: FakeQqPlatform;

beforeEach(async () => {
  platform = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  platform.releaseApi();
  await platform.stop();
});

/** A gateway whose token cache and calls go to the fake platform over real HTTP. */
const start = (overrides: Partial<Config> = {}) =>
  fixture.start(
    { qqApiBase: platform.baseUrl, qqTokenUrl: platform.tokenUrl, ...overrides },
    { qqApi: createQqApi({ tokenUrl: platform.tokenUrl, apiBase: platform.baseUrl }) },
  );

type Result = { hookway: 'result'; id: string | null; status?: number; body?: unknown; error?: string; message?: string };

/** Sends a call frame (an object, or raw text) and awaits the next frame, parsed. */
async function call(c: WsCollector, frame: object | string): Promise<Result> {
  const before = c.frames.length;
  c.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  const frames = await c.waitForFrames(before + 1);
  return JSON.parse(frames[before]!) as Result;
}

const apiCalls = () => platform.calls.filter((c) => c.path !== '/app/getAppAccessToken');

describe('calls through the socket', () => {
  it('forwards a group reply with Hookway’s token and appid and answers with the platform’s status and body', async () => {
    const g = await start();
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    const result = await call(c, { hookway: 'call', id: 'r1', method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: REPLY });
    expect(result).toEqual({ hookway: 'result', id: 'r1', status: 200, body: { id: expect.any(String), timestamp: expect.any(String) } });
    const [sent] = apiCalls();
    expect(sent).toMatchObject({ method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: REPLY });
    expect(sent!.authorization).toBe(`QQBot ${platform.tokenOf(BOT.appid)}`);
    expect(sent!.headers['x-union-appid']).toBe(BOT.appid);
    expect(JSON.stringify(sent!.headers)).not.toContain(SECRET);
    expect(g.gateway.stats()).toMatchObject({ rawCalls: 1, rawCallErrors: 0 });
    // One token for many calls: the directory's cache.
    await call(c, { hookway: 'call', id: 'r2', method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: { ...REPLY, msg_seq: 2 } });
    expect(platform.tokenRequests.get(BOT.appid)).toBe(1);
    expect(g.logs.join('\n')).not.toContain(platform.tokenOf(BOT.appid));
  });

  it('gets a fresh token once when the platform no longer takes the cached one (401, code 11244), and retries the call', async () => {
    const g = await start();
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    expect(await call(c, { hookway: 'call', id: 'a', method: 'GET', path: '/users/@me' })).toMatchObject({ status: 200 });
    const old = platform.tokenOf(BOT.appid);
    platform.rotate(BOT.appid);
    const result = await call(c, { hookway: 'call', id: 'b', method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: REPLY });
    expect(result).toMatchObject({ id: 'b', status: 200 });
    expect(platform.tokenRequests.get(BOT.appid)).toBe(2);
    const posts = apiCalls().filter((x) => x.method === 'POST');
    expect(posts.map((x) => x.authorization)).toEqual([`QQBot ${old}`, `QQBot ${platform.tokenOf(BOT.appid)}`]);
    // A platform that keeps refusing gets its 401 passed on, not a retry loop.
    platform.tokenOutage = true;
    platform.rotate(BOT.appid);
    expect(await call(c, { hookway: 'call', id: 'c', method: 'GET', path: '/users/@me' })).toMatchObject({ id: 'c', status: 401 });
  });

  it('works for a client key’s connection, with query strings, without a body, and passes statuses through', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys);
    const c = await fixture.connect(g, '/ws', { headers: { authorization: `Bearer ${key}` } });
    expect(await call(c, { hookway: 'call', id: 'me', method: 'GET', path: '/users/@me?fields=id' })).toMatchObject({
      id: 'me',
      status: 200,
      body: { id: BOT.userId },
    });
    expect(apiCalls().at(-1)).toMatchObject({ method: 'GET', path: '/users/@me?fields=id', body: undefined });
    expect(await call(c, { hookway: 'call', id: 'ack', method: 'PUT', path: '/interactions/30540ff7', body: { code: 0 } })).toEqual({
      hookway: 'result',
      id: 'ack',
      status: 204,
      body: null,
    });
    expect(await call(c, { hookway: 'call', id: 'nf', method: 'PATCH', path: '/guilds/1/members/2' })).toMatchObject({
      id: 'nf',
      status: 404,
    });
    expect(apiCalls().at(-1)!.headers.authorization).toBe(`QQBot ${platform.tokenOf(BOT.appid)}`);
    expect(JSON.stringify(platform.calls)).not.toContain(key);
  });

  it.each([
    ['not JSON', '{"hookway":"call","id":"x"', null],
    ['not an object', '["hookway"]', null],
    ['no id', { hookway: 'call', method: 'GET', path: '/users/@me' }, null],
    ['an empty id', { hookway: 'call', id: '', method: 'GET', path: '/users/@me' }, null],
    ['a numeric id', { hookway: 'call', id: 7, method: 'GET', path: '/users/@me' }, null],
    ['an over-long id', { hookway: 'call', id: 'x'.repeat(129), method: 'GET', path: '/users/@me' }, null],
    ['an id with a space', { hookway: 'call', id: 'a b', method: 'GET', path: '/users/@me' }, null],
    ['a misspelt kind', { hookway: 'cal', id: 'k', method: 'GET', path: '/users/@me' }, 'k'],
    ['no method', { hookway: 'call', id: 'k', path: '/users/@me' }, 'k'],
    ['HEAD', { hookway: 'call', id: 'k', method: 'HEAD', path: '/users/@me' }, 'k'],
    ['a lower-case method', { hookway: 'call', id: 'k', method: 'post', path: '/users/@me' }, 'k'],
    ['no path', { hookway: 'call', id: 'k', method: 'GET' }, 'k'],
    ['a relative path', { hookway: 'call', id: 'k', method: 'GET', path: 'users/@me' }, 'k'],
    ['an absurdly long path', { hookway: 'call', id: 'k', method: 'GET', path: `/v2/${'a'.repeat(3000)}` }, 'k'],
    ['a body that is an array', { hookway: 'call', id: 'k', method: 'POST', path: '/v2/groups/G/messages', body: [1] }, 'k'],
    ['a body that is text', { hookway: 'call', id: 'k', method: 'POST', path: '/v2/groups/G/messages', body: 'hi' }, 'k'],
    ['a null body', { hookway: 'call', id: 'k', method: 'POST', path: '/v2/groups/G/messages', body: null }, 'k'],
  ])('answers a malformed call (%s) with bad_call and sends nothing', async (_what, frame, id) => {
    const g = await start();
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    const result = await call(c, frame);
    expect(result).toMatchObject({ hookway: 'result', id, error: 'bad_call' });
    expect(result.message!.length).toBeGreaterThan(10);
    expect(apiCalls()).toEqual([]);
    expect(g.gateway.stats()).toMatchObject({ rawCalls: 0, rawCallErrors: 1 });
    // The connection is fine: events still arrive.
    await g.publish(groupAtMessage());
    await c.waitForFrames(2);
  });

  it.each([
    '/app/getAppAccessToken',
    '/gateway',
    '/gateway/bot',
    '/metrics',
    '/v2',
    '/v2/../app/getAppAccessToken',
    '/v2/%2e%2e/app/getAppAccessToken',
    '//evil.example/v2/groups/G/messages',
    '/v2/groups/G\\messages',
    '/v2/groups/G messages',
    '/users/@mine',
    '/webhook',
  ])('answers path_not_allowed for %s and sends nothing', async (path) => {
    const g = await start();
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    expect(await call(c, { hookway: 'call', id: 'p', method: 'POST', path, body: {} })).toMatchObject({
      id: 'p',
      error: 'path_not_allowed',
    });
    expect(platform.calls).toEqual([]);
  });

  it('answers unknown_bot when Hookway does not know the bot’s appid, or the platform gives no token for its secret', async () => {
    const g = await start({
      bots: new Map([
        [BOT.appid, SECRET],
        ['102000009', 'NotTheRealSecret123'],
      ]),
    });
    const unknown = await fixture.connect(g, `/ws?secret=${OTHER_SECRET}`);
    const noAppid = await call(unknown, { hookway: 'call', id: 'u', method: 'GET', path: '/users/@me' });
    expect(noAppid).toMatchObject({ id: 'u', error: 'unknown_bot' });
    expect(noAppid.message).toContain('BOTS');
    const wrong = await fixture.connect(g, '/ws?secret=NotTheRealSecret123');
    const noToken = await call(wrong, { hookway: 'call', id: 'w', method: 'GET', path: '/users/@me' });
    expect(noToken).toMatchObject({ id: 'w', error: 'unknown_bot' });
    expect(noToken.message).toContain('102000009');
    expect(apiCalls()).toEqual([]);
  });

  it('answers upstream_timeout when the platform does not answer within OPENAPI_TIMEOUT_MS', async () => {
    const g = await start({ openapiTimeoutMs: 1000 });
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    platform.holdApi = true;
    const result = await call(c, { hookway: 'call', id: 't', method: 'POST', path: `/v2/groups/${GROUP}/messages`, body: REPLY });
    expect(result).toMatchObject({ id: 't', error: 'upstream_timeout' });
    expect(result.message).toContain('1000 ms');
  });

  it('answers upstream_failed when the platform cannot be reached', async () => {
    const g = await start({ qqApiBase: 'http://127.0.0.1:9' });
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    expect(await call(c, { hookway: 'call', id: 'f', method: 'GET', path: '/users/@me' })).toMatchObject({
      id: 'f',
      error: 'upstream_failed',
    });
  });

  it('refuses calls when OPENAPI_PROXY=false', async () => {
    const g = await start({ openapiProxy: false });
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    const result = await call(c, { hookway: 'call', id: 'o', method: 'GET', path: '/users/@me' });
    expect(result).toMatchObject({ id: 'o', error: 'path_not_allowed' });
    expect(result.message).toContain('OPENAPI_PROXY=false');
    expect(platform.calls).toEqual([]);
  });

  it('never sends a secret upstream in a call’s path or query (the AppSecret, ?secret=, a client key)', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys);
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    const paths = [
      `/users/@me?secret=${SECRET}`,
      `/users/@me?Secret=x`,
      `/v2/groups/${SECRET}/messages`,
      `/v2/groups/${encodeURIComponent(SECRET).replace(/[A-Za-z]/, (ch) => `%${ch.charCodeAt(0).toString(16)}`)}/messages`,
      `/users/@me?k=${key}`,
    ];
    for (const [i, path] of paths.entries()) {
      expect(await call(c, { hookway: 'call', id: `s${i}`, method: 'GET', path })).toMatchObject({
        id: `s${i}`,
        error: 'path_not_allowed',
      });
    }
    expect(apiCalls()).toEqual([]);
    expect(JSON.stringify(platform.calls)).not.toContain(SECRET);
    // A secret Hookway has not learned (so the log's redactor does not know it) stays out of the log line too.
    const unknown = await fixture.connect(g, `/ws?secret=${OTHER_SECRET}`);
    for (const path of [`/v2/groups/${OTHER_SECRET}/messages`, `/app/${OTHER_SECRET}`]) {
      expect(await call(unknown, { hookway: 'call', id: 'u', method: 'GET', path })).toMatchObject({ error: expect.any(String) });
    }
    expect(g.logs.join('\n')).not.toContain(OTHER_SECRET);
  });

  it('lets a read-only key read but answers forbidden to anything that acts', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys, { readOnly: true });
    const c = await fixture.connect(g, `/ws?key=${key}`);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(await call(c, { hookway: 'call', id: method, method, path: `/v2/groups/${GROUP}/messages`, body: REPLY })).toMatchObject({
        id: method,
        error: 'forbidden',
      });
    }
    expect(apiCalls()).toEqual([]);
    expect(await call(c, { hookway: 'call', id: 'get', method: 'GET', path: '/users/@me' })).toMatchObject({ id: 'get', status: 200 });
  });

  it('answers too_many_calls past RAW_CALLS_IN_FLIGHT_MAX, at once, and the waiting calls still complete', async () => {
    const g = await start({ rawCallsInFlightMax: 2 });
    const c = await fixture.connect(g, `/ws?secret=${SECRET}`);
    await call(c, { hookway: 'call', id: 'warm', method: 'GET', path: '/users/@me' });
    platform.holdApi = true;
    for (const id of ['a', 'b']) c.ws.send(JSON.stringify({ hookway: 'call', id, method: 'GET', path: '/users/@me' }));
    await until(() => platform.heldCount === 2, 'two calls held by the platform');
    const refused = await call(c, { hookway: 'call', id: 'c', method: 'GET', path: '/users/@me' });
    expect(refused).toMatchObject({ id: 'c', error: 'too_many_calls' });
    expect(refused.message).toContain('RAW_CALLS_IN_FLIGHT_MAX');
    platform.releaseApi();
    const frames = await c.waitForFrames(4);
    expect(frames.slice(2).map((f) => JSON.parse(f) as Result)).toEqual([
      expect.objectContaining({ id: 'a', status: 200 }),
      expect.objectContaining({ id: 'b', status: 200 }),
    ]);
    // The slots are free again.
    expect(await call(c, { hookway: 'call', id: 'd', method: 'GET', path: '/users/@me' })).toMatchObject({ id: 'd', status: 200 });
  });

  it('a flooding client that does not read is closed at its send-buffer cap; another client’s events are not held up', async () => {
    const g = await start({ wsMaxBufferedBytes: 16 * 1024 });
    const flooder = await fixture.connect(g, `/ws?secret=${SECRET}`);
    const other = await fixture.connect(g, `/ws?secret=${SECRET}`);
    platform.holdApi = true;
    // The flooder stops reading: its results pile up in the server's send buffer.
    (flooder.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const frame = JSON.stringify({ hookway: 'call', id: 'flood', method: 'GET', path: '/users/@me' });
    await until(() => {
      if (g.gateway.stats().slowConsumerCloses > 0) return true;
      for (let i = 0; i < 200; i++) flooder.ws.send(frame);
      return false;
    }, 'the flooder to be closed as a slow consumer');
    // Its calls in flight are still held by the platform, yet the other client gets events at once.
    expect(platform.heldCount).toBe(8);
    await g.publish(groupAtMessage({ content: 'still flowing' }));
    const [event] = await other.waitForFrames(1);
    expect(JSON.parse(event!).d.content).toBe('still flowing');
  });
});
