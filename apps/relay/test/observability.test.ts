import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { openBotRegistry } from '@hookway/bots';
import { openEventLog } from '@hookway/bus';
import { openSessionStore } from '@hookway/gateway';
import { openClientKeyStore } from '@hookway/keys';
import { closeBackend, openBackend } from '@hookway/redis';
import { createLogger, createRedactor, defaultConfig } from '@hookway/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppSecret, Intent } from '@hookway/protocol';
import {
  c2cMessage,
  duplicateJsonKeys,
  FakeQqPlatform,
  GatewayTestClient,
  groupAtMessage,
  lineSink,
  promFamilies,
  promSample,
  startRedisServer,
  until,
  WebhookSender,
  WsCollector,
  type GatewayFrame,
} from '@hookway/testkit';
import { startProcess } from './cluster.ts';
import { createRelay } from '../src/index.ts';
import { relayFixture, SECRET, type RunningRelay } from './harness.ts';

const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };
const TAG = AppSecret.parse(SECRET)!.tag;
const TOKEN = 'metrics-token-0123456789abcdef';

let fake: FakeQqPlatform;
const { start, connect } = relayFixture();
const gatewayClients: GatewayTestClient[] = [];
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  for (const c of gatewayClients.splice(0)) c.ws.terminate();
  await fake.stop();
});

const config = () => ({
  qqApiBase: fake.baseUrl,
  qqTokenUrl: fake.tokenUrl,
  bots: new Map([[BOT.appid, BOT.secret]]) as ReadonlyMap<string, string>,
  gatewayCloseGraceMs: 100,
});

const scrape = async (r: RunningRelay, headers: Record<string, string> = {}) => {
  const res = await fetch(`${r.baseUrl}/metrics`, { headers });
  return { status: res.status, text: await res.text() };
};
const metricsText = async (r: RunningRelay) => {
  const { status, text } = await scrape(r);
  expect(status).toBe(200);
  return text;
};

/** A gateway-mode session identified with `intents`; resolves once READY arrived. */
const session = async (r: RunningRelay, intents: number) => {
  const c = await GatewayTestClient.connect(r.wsUrl('/websocket'));
  gatewayClients.push(c);
  c.identify(`QQBot ${fake.tokenOf(BOT.appid)}`, intents);
  const [, ready] = await c.next(2);
  expect(ready).toMatchObject({ op: 0, t: 'READY' });
  return c;
};
const dispatches = (c: GatewayTestClient): GatewayFrame[] => c.parsed().filter((f) => f.op === 0 && f.t !== 'READY');
const messages = (r: RunningRelay, msg: string) => r.logs.filter((l) => (JSON.parse(l) as { msg: string }).msg === msg);
const ALL_GROUP = Intent.GROUP_AND_C2C_EVENT | Intent.PUBLIC_GUILD_MESSAGES;

describe('GET /metrics on the relay', () => {
  it('counts webhooks by outcome, publishes, deliveries by mode, clients and closes — real HTTP and WebSocket', async () => {
    const r = await start(config());
    const raw = await connect(r, `/ws?secret=${SECRET}`);
    const gw = await session(r, ALL_GROUP);
    const sender = r.sender();

    expect((await sender.validate('tok-1', '1725442341')).status).toBe(200);
    const first = groupAtMessage();
    expect((await sender.dispatch(first)).status).toBe(200);
    expect((await sender.dispatch(groupAtMessage())).status).toBe(200);
    expect((await sender.dispatch(first)).headers.get('x-hookway-duplicate')).toBe('1');
    expect((await sender.dispatch(groupAtMessage(), { signature: 'ab'.repeat(64) })).status).toBe(401);
    expect((await r.sender().post('{"op":0', {})).status).toBe(400);
    await raw.waitForFrames(2);
    await until(() => dispatches(gw).length === 2, 'two dispatches in gateway mode');

    const text = await metricsText(r);
    const webhooks = (outcome: string, bot: string = TAG) => promSample(text, 'hookway_webhooks_total', { outcome, bot });
    // The op 13 came before the bot's first verified event: anyone can send one for any secret, so it names no bot.
    expect(webhooks('validated', 'unverified')).toBe(1);
    expect(webhooks('accepted')).toBe(2);
    expect(webhooks('duplicate')).toBe(1);
    expect(webhooks('bad_signature')).toBe(1);
    expect(webhooks('malformed_json')).toBe(1);
    expect(promSample(text, 'hookway_publish_duration_seconds_count', { result: 'accepted' })).toBe(2);
    expect(promSample(text, 'hookway_publish_duration_seconds_count', { result: 'duplicate' })).toBe(1);
    expect(promSample(text, 'hookway_events_delivered_total', { mode: 'raw', bot: TAG })).toBe(2);
    expect(promSample(text, 'hookway_events_delivered_total', { mode: 'gateway', bot: TAG })).toBe(2);
    expect(promSample(text, 'hookway_delivery_latency_seconds_count', { mode: 'raw' })).toBe(2);
    expect(promSample(text, 'hookway_delivery_latency_seconds_count', { mode: 'gateway' })).toBe(2);
    expect(promSample(text, 'hookway_clients', { mode: 'raw' })).toBe(1);
    expect(promSample(text, 'hookway_clients', { mode: 'gateway' })).toBe(1);
    expect(promSample(text, 'hookway_feed_position', { bot: TAG })).toBe(2);
    expect(promSample(text, 'hookway_fanout_backlog_bytes', { bot: TAG })).toBe(0); // everything written out
    expect(promSample(text, 'hookway_store_ready')).toBe(1);
    expect(promSample(text, 'hookway_ready')).toBe(1);
    expect(promSample(text, 'hookway_feed_gaps_total', { result: 'lost' })).toBe(0);
    // Bots appear as their tag only: the AppSecret is in no sample, label or help text.
    expect(text).not.toContain(SECRET);

    raw.ws.close(1000, 'bye');
    await raw.closed;
    await until(
      async () => promSample(await metricsText(r), 'hookway_client_closes_total', { mode: 'raw', code: '1000' }) === 1,
      'the close',
    );
    expect(promSample(await metricsText(r), 'hookway_clients', { mode: 'raw' })).toBe(0);
  });

  it('with METRICS_TOKEN: 401 without it, 200 with it, and the token in no log line', async () => {
    const r = await start({ ...config(), metricsToken: TOKEN });
    expect((await scrape(r)).status).toBe(401);
    expect((await scrape(r, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const ok = await scrape(r, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('hookway_webhooks_total');
    expect(r.logs.join('\n')).not.toContain(TOKEN);
  });

  it('without a token, refuses what a local nginx forwards (X-Forwarded-For of a remote client)', async () => {
    const r = await start(config());
    expect((await scrape(r)).status).toBe(200);
    const proxied = await scrape(r, { 'x-forwarded-for': '198.51.100.4', 'x-real-ip': '198.51.100.4' });
    expect(proxied.status).toBe(403);
    expect(proxied.text).toContain('METRICS_TOKEN');
  });

  it('counts OpenAPI pass-through requests by the status class upstream answered', async () => {
    const r = await start(config());
    const call = (headers: Record<string, string>) => fetch(`${r.baseUrl}/users/@me`, { headers }).then((res) => res.status);
    expect(await call({ authorization: `QQBot ${fake.tokenOf(BOT.appid)}` })).toBe(200);
    expect(await call({ authorization: 'QQBot not-a-token' })).toBe(401);
    await fake.stop();
    expect(await call({ authorization: 'QQBot not-a-token' })).toBe(502);
    const text = await metricsText(r);
    expect(promSample(text, 'hookway_openapi_requests_total', { status_class: '2xx' })).toBe(1);
    expect(promSample(text, 'hookway_openapi_requests_total', { status_class: '4xx' })).toBe(1);
    expect(promSample(text, 'hookway_openapi_requests_total', { status_class: 'unreachable' })).toBe(1);
    fake = await new FakeQqPlatform([BOT]).start();
  });

  it('the Grafana dashboard is valid JSON and every query names a metric the relay exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../deploy/grafana/hookway-dashboard.json', import.meta.url), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const r = await start(config());
    const families = promFamilies(await metricsText(r));
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(8);
    const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:hookway|process|nodejs)_[a-z_]+)\b/g)].map((m) => m[1]!)));
    const missing = [...named].filter((name) => !families.has(name) && !families.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(missing).toEqual([]);
    for (const name of named) if (name.endsWith('_bucket')) expect(families.get(name.replace(/_bucket$/, ''))).toBe('histogram');
  });
});

describe('GET /metrics with Redis', () => {
  it('shows the store ready, 0 while Redis is down, and ready again after', { timeout: 60_000 }, async () => {
    const redis = await startRedisServer();
    const config = defaultConfig({ redisUrl: redis.url, port: 0, host: '127.0.0.1' });
    const redactor = createRedactor();
    const { stream, lines } = lineSink();
    const backend = await openBackend(config, () => undefined);
    // As `pnpm start` builds it with REDIS_URL (apps/relay/src/main.ts).
    const events = openEventLog(backend, config);
    const stores = {
      events: events.log,
      sessions: openSessionStore(backend),
      bots: openBotRegistry(backend),
      keys: openClientKeyStore(backend, config),
    };
    const relay = createRelay({
      config,
      logger: createLogger({ level: 'info', redactor, destination: stream }),
      redactor,
      stores,
      storesHealth: events.health,
      ownedResources: [
        { name: 'event log', resource: stores.events },
        { name: 'session store', resource: stores.sessions },
        { name: 'bot registry', resource: stores.bots },
        { name: 'client keys', resource: stores.keys },
        { name: 'store backend', resource: { close: () => closeBackend(backend) } },
      ],
    });
    try {
      relay.server.listen(0, '127.0.0.1');
      await once(relay.server, 'listening');
      const url = `http://127.0.0.1:${(relay.server.address() as AddressInfo).port}/metrics`;
      const storeReady = async () => promSample(await (await fetch(url)).text(), 'hookway_store_ready');
      await until(async () => (await storeReady()) === 1, 'store ready');
      // A client, so the event log holds a subscriber connection that must resync after the outage.
      const client = await WsCollector.connect(url.replace(/^http/, 'ws').replace('/metrics', `/ws?secret=${SECRET}`));
      // Connected once it has joined the bot's feed: the subscriber connection is up.
      await until(() => lines.some((l) => l.includes('"client connected"')), 'the client to join its feed');
      await redis.kill();
      await until(async () => (await storeReady()) === 0, 'store not ready while Redis is down');
      expect(promSample(await (await fetch(url)).text(), 'hookway_ready')).toBe(0);
      await redis.restart();
      await until(async () => (await storeReady()) === 1, 'store ready again');
      await until(
        async () => (promSample(await (await fetch(url)).text(), 'hookway_redis_resyncs_total') ?? 0) >= 1,
        'the feeds’ resync counted',
      );
      client.ws.terminate();
    } finally {
      await relay.close(5000);
      await redis.dispose();
    }
  });
});

describe('logs a newcomer can read', () => {
  it('a real `pnpm start` process: every line JSON with no key twice and one role; op 13 logged once; /metrics from loopback', async () => {
    const p = await startProcess('relay', { LOG_LEVEL: 'info' });
    try {
      const sender = new WebhookSender(p.baseUrl, SECRET);
      expect((await sender.validate('t-1', '1725442341')).status).toBe(200);
      expect((await sender.validate('t-2', '1725442341')).status).toBe(200);
      const client = await WsCollector.connect(`ws://127.0.0.1:${p.port}/ws?secret=${SECRET}`);
      await sender.dispatch(groupAtMessage());
      await client.waitForFrames(1);
      const metrics = await fetch(`${p.baseUrl}/metrics`);
      expect(metrics.status).toBe(200);
      // Both op 13s came before the bot's first verified event: counted, but under no bot's label.
      expect(promSample(await metrics.text(), 'hookway_webhooks_total', { outcome: 'validated', bot: 'unverified' })).toBe(2);
      client.ws.close(1000);
      await client.closed;
      await p.outputMatching(/client disconnected/);
    } finally {
      expect(await p.stop()).toBe(0);
    }
    const lines = p.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      expect(duplicateJsonKeys(line), line).toEqual([]);
      expect(JSON.parse(line), line).toMatchObject({ role: 'relay' });
    }
    expect(lines.filter((l) => l.includes('callback validated — the platform will now send events'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('"component":"gateway"'))).toBe(true);
    expect(p.output()).not.toContain(SECRET);
  });

  it('one role per line, the first op 13 per bot once, an activity line while active and none when idle', async () => {
    const r = await start(config());
    const raw = await connect(r, `/ws?secret=${SECRET}`);
    const sender = r.sender();
    for (const token of ['a-1', 'a-2', 'a-3']) {
      expect((await sender.validate(token, '1725442341', `/webhook?secret=${SECRET}`)).status).toBe(200);
    }
    const first = groupAtMessage();
    await sender.dispatch(first);
    await sender.dispatch(first);
    await sender.dispatch(groupAtMessage());
    await raw.waitForFrames(2);

    const validated = messages(r, 'callback validated — the platform will now send events');
    expect(validated).toHaveLength(1);
    expect(JSON.parse(validated[0]!)).toMatchObject({ level: 'info', bot: TAG });

    r.relay.activity.flush();
    const activity = r.logs.filter((l) => l.includes('"activity in the last'));
    expect(activity).toHaveLength(1);
    expect(JSON.parse(activity[0]!)).toMatchObject({ level: 'info', bot: TAG, accepted: 2, duplicates: 1, delivered: 2, clients: 1 });
    // Idle: nothing, whoever is connected.
    r.relay.activity.flush();
    expect(r.logs.filter((l) => l.includes('"activity in the last'))).toHaveLength(1);

    // Every line of the run: valid JSON, no key twice (JSON.parse would hide a second `role`), exactly one role.
    for (const line of r.logs) {
      expect(duplicateJsonKeys(line), line).toEqual([]);
    }
    expect(r.logs.length).toBeGreaterThan(5);
    expect(r.logs.every((l) => (l.match(/"role":/g) ?? []).length <= 1)).toBe(true);
    expect(r.logs.join('\n')).not.toContain(SECRET);
  });

  it('warns once per gateway session when its intents drop an arriving event type, naming the type and the intent', async () => {
    const r = await start(config());
    // nonebot's default intents: guild messages, no group/C2C.
    const guildOnly = Intent.GUILDS | Intent.PUBLIC_GUILD_MESSAGES | Intent.DIRECT_MESSAGE;
    const quiet = await session(r, guildOnly);
    const everything = await session(r, ALL_GROUP);
    const sender = r.sender();
    await sender.dispatch(groupAtMessage());
    await sender.dispatch(groupAtMessage());
    await sender.dispatch(c2cMessage());
    await until(() => dispatches(everything).length === 3, 'three dispatches to the session that wants them');
    expect(dispatches(quiet)).toHaveLength(0);

    const warnings = () => r.logs.filter((l) => l.includes('its Identify intents lack'));
    expect(warnings()).toHaveLength(1);
    expect(JSON.parse(warnings()[0]!)).toMatchObject({
      level: 'warn',
      bot: TAG,
      event: 'GROUP_AT_MESSAGE_CREATE',
      intent: 'GROUP_AND_C2C_EVENT',
      intents: guildOnly,
      msg: expect.stringContaining('GATEWAY_INTENTS=all'),
    });

    // Another session with the same intents is warned once too.
    const second = await session(r, guildOnly);
    await sender.dispatch(groupAtMessage());
    await until(() => dispatches(everything).length === 4, 'the fourth dispatch');
    await until(() => warnings().length === 2, 'the second session’s warning');
    expect(dispatches(second)).toHaveLength(0);
    await sender.dispatch(groupAtMessage());
    await until(() => dispatches(everything).length === 5, 'the fifth dispatch');
    expect(warnings()).toHaveLength(2);
  });
});
