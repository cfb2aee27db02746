import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { RedisEventLog } from '@hookway/bus';
import { RedisBotRegistry } from '@hookway/bots';
import { RedisSessionStore } from '@hookway/gateway';
import { RedisConnection } from '@hookway/redis';
import { defaultConfig } from '@hookway/runtime';
import { FakeQqPlatform, GatewayTestClient, groupAtMessage, WebhookSender } from '@hookway/testkit';
import { relayFixture, SECRET, sleep, testStores, startRelay, type RunningRelay } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };
const GUILD_EVENT = (guildId: string, content = 'ping') =>
  JSON.stringify({
    op: 0,
    id: `AT_MESSAGE_CREATE:${Math.random().toString(36).slice(2)}`,
    d: {
      author: { id: '1234567890123456789', username: 'abc', bot: false },
      channel_id: '100010',
      guild_id: guildId,
      content,
      id: '08ef',
      seq: 101,
      seq_in_channel: '101',
      timestamp: '2021-05-20T15:14:58+08:00',
    },
    t: 'AT_MESSAGE_CREATE',
  });

let fake: FakeQqPlatform;
const { start } = relayFixture();
const extra: RunningRelay[] = [];
const clients: GatewayTestClient[] = [];
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const r of extra.splice(0)) await r.close();
  await fake.stop();
});

const gatewayConfig = () => ({
  qqApiBase: fake.baseUrl,
  qqTokenUrl: fake.tokenUrl,
  bots: new Map([[BOT.appid, BOT.secret]]) as ReadonlyMap<string, string>,
  gatewayCloseGraceMs: 100,
});
const open = async (r: RunningRelay, path = '/websocket') => {
  const c = await GatewayTestClient.connect(r.wsUrl(path));
  clients.push(c);
  return c;
};
const identified = async (r: RunningRelay, token = `QQBot ${fake.tokenOf(BOT.appid)}`, intents?: number, shard?: [number, number]) => {
  const c = await open(r);
  c.identify(token, intents, shard);
  const [hello, ready] = await c.next(2);
  expect(hello!.op).toBe(10);
  expect(ready).toMatchObject({ op: 0, t: 'READY' });
  return c;
};
const post = (r: RunningRelay, body: string) => r.sender().dispatch(body);
const rawD = (body: string) => JSON.stringify((JSON.parse(body) as { d: unknown }).d);

describe('gateway protocol on /websocket', () => {
  it('sends Hello first, takes an Identify sent before Hello was read, and answers READY as the very next frame', async () => {
    const r = await start(gatewayConfig());
    const c = await open(r);
    c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`, 1 << 25, [0, 1]);
    const [hello, ready] = await c.next(2);
    expect(hello).toEqual({ op: 10, d: { heartbeat_interval: 41250 } });
    expect(ready).toMatchObject({
      op: 0,
      s: 1,
      t: 'READY',
      d: { version: 1, user: { id: BOT.userId, username: BOT.username, bot: true }, shard: [0, 1] },
    });
    expect((ready!.d as { session_id: string }).session_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('dispatches every event with an integer s ≥ 2, its top-level id, and the platform’s d byte for byte', async () => {
    const r = await start(gatewayConfig());
    const c = await identified(r);
    const bodies = [groupAtMessage(), groupAtMessage({ content: '{"nested":"quo\\"te"} 你好' }), GUILD_EVENT('18700000000001')];
    for (const body of bodies) await post(r, body);
    const frames = (await c.next(5)).slice(2);
    expect(frames.map((f) => f.s)).toEqual([2, 3, 4]);
    for (const [i, frame] of frames.entries()) {
      const sent = JSON.parse(bodies[i]!) as { id: string; t: string };
      expect(frame).toMatchObject({ op: 0, t: sent.t, id: sent.id });
      expect(c.frames[i + 2]).toContain(`"d":${rawD(bodies[i]!)}}`);
    }
  });

  it('answers every heartbeat form with op 11 at once, before and after Identify', async () => {
    const r = await start(gatewayConfig());
    const c = await open(r);
    c.send({ op: 1, d: null });
    await c.next(2);
    c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`);
    await c.next(3);
    for (const beat of [{ op: 1, d: 5 }, { op: 1 }, { op: 1, s: 3 }]) c.send(beat);
    expect((await c.next(6)).slice(3)).toEqual([{ op: 11 }, { op: 11 }, { op: 11 }]);
    expect(c.parsed()[1]).toEqual({ op: 11 });
  });

  it('resumes on another replica: replays every event after seq, then RESUMED', async () => {
    const stores = testStores();
    const one = await startRelay(gatewayConfig(), { stores });
    const two = await startRelay(gatewayConfig(), { stores });
    extra.push(one, two);
    const first = await identified(one);
    const sessionId = (first.parsed()[1]!.d as { session_id: string }).session_id;
    await post(one, groupAtMessage());
    await post(one, groupAtMessage());
    const seen = await first.next(4);
    first.ws.terminate();
    const missed = [groupAtMessage(), groupAtMessage()];
    for (const body of missed) await post(two, body);
    const resumed = await open(two);
    resumed.send({ op: 6, d: { token: fake.tokenOf(BOT.appid), session_id: sessionId, seq: seen[3]!.s } }); // botgo's bare token
    const frames = await resumed.next(4);
    expect(frames.slice(1, 3).map((f) => [f.s, f.id])).toEqual(missed.map((b, i) => [4 + i, JSON.parse(b).id]));
    expect(frames[3]).toEqual({ op: 0, s: 5, t: 'RESUMED', d: '' });
    const live = groupAtMessage();
    await post(two, live);
    expect((await resumed.next(5))[4]).toMatchObject({ s: 6, id: JSON.parse(live).id });
  });

  it('answers a Resume it cannot honour completely with op 9, then closes with 4006 (never a partial replay)', async () => {
    const r = await start({ ...gatewayConfig(), historyMaxEvents: 3 });
    const first = await identified(r);
    const sessionId = (first.parsed()[1]!.d as { session_id: string }).session_id;
    first.ws.terminate();
    for (let i = 0; i < 6; i++) await post(r, groupAtMessage());
    const resumed = await open(r);
    resumed.send({ op: 6, d: { token: `QQBot ${fake.tokenOf(BOT.appid)}`, session_id: sessionId, seq: 1 } });
    const frames = await resumed.next(2);
    expect(frames[1]).toMatchObject({ op: 9 });
    expect((await resumed.closed).code).toBe(4006);
    expect(resumed.parsed().filter((f) => f.op === 0)).toEqual([]);
  });

  it('on shutdown sends op 7, then closes with 4009 so the client resumes elsewhere', async () => {
    const r = await start(gatewayConfig());
    const c = await identified(r);
    const closing = r.relay.close(5000);
    expect((await c.next(3))[2]).toEqual({ op: 7 });
    expect((await c.closed).code).toBe(4009);
    await closing;
  });

  it('tolerates a socket that never identifies (by default for ever; dead peers are found by pings)', async () => {
    expect(defaultConfig().gatewayIdentifyTimeoutMs).toBe(0);
    const r = await start(gatewayConfig());
    const idle = await open(r);
    await sleep(1500);
    expect(idle.ws.readyState).toBe(idle.ws.OPEN);
  });
});

describe('handshake edges', () => {
  it('answers a heartbeat sent during the handshake only after READY', async () => {
    const r = await start(gatewayConfig());
    const c = await open(r);
    c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`);
    c.send({ op: 1, d: null });
    const frames = await c.next(3);
    expect(frames.map((f) => f.op)).toEqual([10, 0, 11]);
    expect(frames[1]!.t).toBe('READY');
  });

  it('leaves the bot’s feed when a Resume is refused (no subscription left behind)', async () => {
    const r = await start({ ...gatewayConfig(), historyMaxEvents: 2 });
    const first = await identified(r);
    const sessionId = (first.parsed()[1]!.d as { session_id: string }).session_id;
    first.ws.terminate();
    for (let i = 0; i < 4; i++) await post(r, groupAtMessage());
    for (let i = 0; i < 5; i++) {
      const c = await open(r);
      c.send({ op: 6, d: { token: `QQBot ${fake.tokenOf(BOT.appid)}`, session_id: sessionId, seq: 1 } });
      expect((await c.closed).code).toBe(4006);
    }
    await sleep(100);
    expect(r.relay.gateway.stats()).toMatchObject({ connections: 0, bots: 0 });
  });

  it('counts replayed events as delivered: a second fresh session does not get them again', async () => {
    const r = await start(gatewayConfig());
    const unseen = [groupAtMessage(), groupAtMessage()];
    for (const body of unseen) await post(r, body);
    const first = await identified(r);
    expect((await first.next(4)).slice(2).map((f) => f.id)).toEqual(unseen.map((b) => JSON.parse(b).id));
    await sleep(50);
    const second = await identified(r);
    await sleep(150);
    expect(second.frames).toHaveLength(2);
  });

  it('resumes (on Redis) a session identified before the bot’s first event ever', async () => {
    const secret = `FreshBot${Date.now().toString(36)}x1`;
    fake = await (await fake.stop(), new FakeQqPlatform([BOT, { ...BOT, appid: '102000099', secret }])).start();
    const connection = new RedisConnection({ url: inject('redisUrl') });
    const events = new RedisEventLog({
      connection,
      historyMaxEvents: 100,
      historyMaxAgeMs: 60_000,
      historyMaxBytes: 1 << 20,
      dedupWindowMs: 60_000,
    });
    expect(await connection.whenReady()).toBe(true);
    const stores = { events, sessions: new RedisSessionStore(connection), bots: new RedisBotRegistry(connection) };
    const r = await start({ ...gatewayConfig(), bots: new Map([['102000099', secret]]) }, { stores });
    const c = await open(r);
    c.identify(`QQBot ${fake.tokenOf('102000099')}`);
    const sessionId = ((await c.next(2))[1]!.d as { session_id: string }).session_id;
    c.ws.terminate();
    await sleep(50);
    const missed = groupAtMessage({ content: 'MISSED' });
    await r.sender(secret).dispatch(missed);
    const resumed = await open(r);
    resumed.send({ op: 6, d: { token: `QQBot ${fake.tokenOf('102000099')}`, session_id: sessionId, seq: 1 } });
    const frames = await resumed.next(3);
    expect(frames[1]).toMatchObject({ s: 2, id: JSON.parse(missed).id });
    expect(frames[2]).toMatchObject({ t: 'RESUMED', s: 2 });
    await r.close();
    await events.close();
    await connection.close();
  });
});

describe('who may receive a bot’s events', () => {
  const refused = async (r: RunningRelay, token: string) => {
    const c = await open(r);
    c.identify(token);
    const frames = await c.next(2);
    expect(frames[1]).toMatchObject({ op: 9 });
    expect((await c.closed).code).toBe(4004);
    await post(r, groupAtMessage());
    await sleep(100);
    expect(c.parsed().some((f) => f.op === 0)).toBe(false);
  };

  it('refuses a forged token with op 9 and 4004, and logs the attempt without the token', async () => {
    const r = await start(gatewayConfig());
    await refused(r, 'QQBot forged-token-123456');
    expect(r.logs.join('')).toMatch(/gateway authentication failed/);
    expect(r.logs.join('')).not.toContain('forged-token-123456');
  });

  it('accepts the legacy Bot <appid>.<AppSecret> and refuses Bot <appid>.<anything else>', async () => {
    const r = await start(gatewayConfig());
    await identified(r, `Bot ${BOT.appid}.${BOT.secret}`);
    await refused(r, `Bot ${BOT.appid}.notTheSecret`);
  });

  it('accepts any Identify on /websocket?secret=<AppSecret>', async () => {
    const r = await start(gatewayConfig());
    const c = await GatewayTestClient.connect(r.wsUrl(`/websocket?secret=${SECRET}`));
    clients.push(c);
    c.identify('QQBot whatever');
    expect((await c.next(2))[1]).toMatchObject({ t: 'READY' });
  });

  it('learns a bot from verified webhooks (X-Bot-Appid), with no BOTS setting', async () => {
    const r = await start({ ...gatewayConfig(), bots: new Map() });
    const c = await open(r);
    c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`);
    expect((await c.next(2))[1]).toMatchObject({ op: 9 });
    await new WebhookSender(r.baseUrl, SECRET).dispatch(groupAtMessage(), { headers: { 'x-bot-appid': BOT.appid } });
    await sleep(200); // learning verifies the pair with the token service first
    await identified(r);
  });
});

describe('an unsigned X-Bot-Appid cannot bind another secret to a real appid', () => {
  it('keeps the victim’s stream and token out of the attacker’s reach', async () => {
    const r = await start({ ...gatewayConfig(), bots: new Map() });
    await new WebhookSender(r.baseUrl, SECRET).dispatch(groupAtMessage(), { headers: { 'x-bot-appid': BOT.appid } });
    const attacker = 'AttackerOwnSecret99';
    // Validly signed with the attacker's own secret, claiming the victim's appid.
    await new WebhookSender(r.baseUrl, attacker).dispatch(groupAtMessage({ content: 'INJECTED' }), {
      headers: { 'x-bot-appid': BOT.appid },
    });
    await sleep(200);
    expect(r.logs.join('')).toMatch(/does not match the secret/);

    const victim = await identified(r);
    const real = groupAtMessage({ content: 'for the victim' });
    await r.sender(SECRET).dispatch(real);
    await r.sender(attacker).dispatch(groupAtMessage({ content: 'INJECTED-2' }));
    // First the never-delivered event that taught Hookway the bot, then the victim's own: nothing of the attacker's.
    expect((await victim.next(4)).slice(2).map((f) => f.op)).toEqual([0, 0]);
    expect(victim.parsed().map((f) => f.id)).toContain(JSON.parse(real).id);
    await sleep(100);
    expect(victim.frames.join('')).not.toContain('INJECTED');

    const before = fake.calls.length;
    const res = await fetch(`${r.baseUrl}/users/@me`, { headers: { authorization: `Bot ${BOT.appid}.${attacker}` } });
    expect(res.status).toBe(401);
    expect(fake.calls.slice(before).map((c) => c.authorization)).toEqual([`Bot ${BOT.appid}.${attacker}`]);
  });
});

describe('intents and shards', () => {
  it('strict: only the events the Identify intents ask for; all: everything', async () => {
    const strict = await start(gatewayConfig());
    const guildOnly = await identified(strict, undefined, 1 << 30);
    await post(strict, groupAtMessage());
    const guild = GUILD_EVENT('18700000000001');
    await post(strict, guild);
    expect((await guildOnly.next(3))[2]).toMatchObject({ t: 'AT_MESSAGE_CREATE', id: JSON.parse(guild).id });
    await sleep(100);
    expect(guildOnly.frames).toHaveLength(3);

    const everything = await startRelay({ ...gatewayConfig(), gatewayIntents: 'all' });
    extra.push(everything);
    const all = await identified(everything, undefined, 1 << 30);
    await post(everything, groupAtMessage());
    expect((await all.next(3))[2]).toMatchObject({ t: 'GROUP_AT_MESSAGE_CREATE' });
  });

  it('splits guild events by (guild_id >> 22) % shards and sends group/C2C events to shard 0', async () => {
    const r = await start(gatewayConfig());
    const zero = await identified(r, undefined, undefined, [0, 2]);
    const one = await identified(r, undefined, undefined, [1, 2]);
    const onShard = (shard: number) => String((BigInt(shard) << 22n) + 5n);
    const [g0, g1, group] = [GUILD_EVENT(onShard(0)), GUILD_EVENT(onShard(1)), groupAtMessage()];
    for (const body of [g0, g1, group]) await post(r, body);
    expect((await zero.next(4)).slice(2).map((f) => f.id)).toEqual([JSON.parse(g0).id, JSON.parse(group).id]);
    expect((await one.next(3))[2]!.id).toBe(JSON.parse(g1).id);
    await sleep(100);
    expect([zero.frames.length, one.frames.length]).toEqual([4, 3]);
  });
});
