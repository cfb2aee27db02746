import { afterEach, describe, expect, it } from 'vitest';
import { FakeQqPlatform, groupAtMessage, startRedisServer, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { runHookway, startProcess, type HookwayProcess, type Role } from './cluster.ts';
import { SECRET } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };
const started: HookwayProcess[] = [];
const clients: WsCollector[] = [];
let redis: RedisServer | undefined;
let platform: FakeQqPlatform | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  await platform?.stop();
  redis = undefined;
  platform = undefined;
});

type Event = { id: string; t: string; d: { id: string; group_openid: string; content: string } };
type Result = { hookway: 'result'; id: string; status?: number; body?: { id?: string }; error?: string };

/** What the README's clients do: take a group @-message, reply to it through the socket (msg_id, msg_seq). */
async function replyThrough(c: WsCollector, event: Event, id: string): Promise<Result> {
  const before = c.frames.length;
  c.ws.send(
    JSON.stringify({
      hookway: 'call',
      id,
      method: 'POST',
      path: `/v2/groups/${event.d.group_openid}/messages`,
      body: { msg_type: 0, content: `echo:${event.d.content}`, msg_id: event.d.id, msg_seq: 1 },
    }),
  );
  const frames = await c.waitForFrames(before + 1);
  return JSON.parse(frames[before]!) as Result;
}

// Separate Node processes (tsx + the app) and a redis-server on two busy cores.
describe('calls in split mode: an ingress and two gateway replicas over Redis', { timeout: 120_000 }, () => {
  it('a call enters on either replica and is made with that replica’s own token; HTTP with a key works on the ingress', async () => {
    redis = await startRedisServer({ appendOnly: false });
    platform = await new FakeQqPlatform([BOT]).start();
    const env = {
      REDIS_URL: redis.url,
      BOTS: `${BOT.appid}:${SECRET}`,
      QQ_API_BASE: platform.baseUrl,
      QQ_TOKEN_URL: platform.tokenUrl,
    };
    const start = async (role: Role) => {
      const p = await startProcess(role, env);
      started.push(p);
      return p;
    };
    const [ingress, first, second] = await Promise.all([start('ingress'), start('gateway'), start('gateway')]);
    const added = await runHookway(['keys', 'add', '--bot', BOT.appid, '--name', 'home-pc'], env);
    expect(added.status).toBe(0);
    const key = added.stdout.trim();

    const connect = async (p: HookwayProcess) => {
      const c = await WsCollector.connect(`ws://127.0.0.1:${p.port}/ws`, { headers: { authorization: `Bearer ${key}` } });
      clients.push(c);
      return c;
    };
    const onFirst = await connect(first);
    const onSecond = await connect(second);
    const body = groupAtMessage({ content: 'hello' });
    expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(body)).status).toBe(200);
    const [a] = await onFirst.waitForFrames(1);
    const [b] = await onSecond.waitForFrames(1);
    const event = JSON.parse(a!) as Event;
    expect(b).toBe(a);
    // No process asked for a token before a call needed one.
    expect(platform.tokenRequests.get(BOT.appid) ?? 0).toBe(0);

    expect(await replyThrough(onFirst, event, 'r1')).toMatchObject({ id: 'r1', status: 200, body: { id: expect.any(String) } });
    expect(platform.tokenRequests.get(BOT.appid)).toBe(1);
    expect(await replyThrough(onFirst, event, 'r2')).toMatchObject({ id: 'r2', status: 200 });
    // The first replica's cache answered the second call; the other replica gets a token of its own.
    expect(platform.tokenRequests.get(BOT.appid)).toBe(1);
    expect(await replyThrough(onSecond, event, 'r3')).toMatchObject({ id: 'r3', status: 200 });
    expect(platform.tokenRequests.get(BOT.appid)).toBe(2);
    const replies = platform.calls.filter((c) => c.path === `/v2/groups/${event.d.group_openid}/messages`);
    expect(replies).toHaveLength(3);
    for (const reply of replies) {
      expect(reply.authorization).toBe(`QQBot ${platform.tokenOf(BOT.appid)}`);
      expect(reply.headers['x-union-appid']).toBe(BOT.appid);
      expect(reply.body).toMatchObject({ content: 'echo:hello', msg_id: event.d.id, msg_seq: 1 });
    }

    // The same reply over plain HTTP through the ingress, with the key as a Bearer token.
    const res = await fetch(`${ingress.baseUrl}/v2/groups/${event.d.group_openid}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msg_type: 0, content: 'over http', msg_id: event.d.id, msg_seq: 2 }),
    });
    expect(res.status).toBe(200);
    expect(platform.calls.at(-1)).toMatchObject({ authorization: `QQBot ${platform.tokenOf(BOT.appid)}`, body: { msg_seq: 2 } });
    expect(JSON.stringify(platform.calls)).not.toContain(key);
    for (const p of started) expect(p.output()).not.toContain(platform.tokenOf(BOT.appid));
  });
});
