import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeQqPlatform, GatewayTestClient, groupAtMessage, until, WebhookSender } from '@hookway/testkit';
import { relayFixture, SECRET, sleep, type RunningRelay } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

let fake: FakeQqPlatform;
const { start } = relayFixture();
const clients: GatewayTestClient[] = [];
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
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
/** Learning a bot from X-Bot-Appid ends with the bot registry remembering it (after the token service said yes). */
const learned = (r: RunningRelay, appid = BOT.appid) =>
  until(async () => (await r.relay.stores.bots.all()).has(appid), `the relay to learn appid ${appid}`);
const notLearnedLogs = (r: RunningRelay) => r.logs.filter((l) => l.includes('not learned')).length;

describe('who may receive a bot’s events', () => {
  it('learns a bot from verified webhooks (X-Bot-Appid), with no BOTS setting', async () => {
    const r = await start({ ...gatewayConfig(), bots: new Map() });
    const c = await open(r);
    c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`);
    expect((await c.next(2))[1]).toMatchObject({ op: 9 });
    await new WebhookSender(r.baseUrl, SECRET).dispatch(groupAtMessage(), { headers: { 'x-bot-appid': BOT.appid } });
    await learned(r); // learning verifies the pair with the token service first
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
    await until(() => notLearnedLogs(r) >= 1, 'the relay to refuse the claimed pair');
    expect(r.logs.join('')).toMatch(/does not match the secret/);
    await learned(r);

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
