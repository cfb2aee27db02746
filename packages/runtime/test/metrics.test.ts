import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { duplicateJsonKeys, lineSink, promSample as sample, until } from '@hookway/testkit';
import {
  ActivityLog,
  BotLabels,
  closeCodeLabel,
  createHttpService,
  createLogger,
  createProxyTrust,
  createRedactor,
  isLoopbackRequest,
  Metrics,
  type HttpService,
} from '../src/index.ts';

const silent = pino({ level: 'silent' });
const running: HttpService[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) await service.close(2000);
});

/** A service that serves nothing but health and /metrics, with the given access rule. */
async function start(token: string, trustProxy: readonly string[] = ['loopback']) {
  const metrics = new Metrics();
  const service = createHttpService({
    logger: silent,
    tcpKeepaliveDelayMs: 30_000,
    drainMs: 0,
    health: [],
    metrics: { metrics, access: { token, trust: createProxyTrust(trustProxy) } },
    handleRequest: (_req, res) => res.writeHead(404).end(),
    services: [],
    backends: [],
  });
  running.push(service);
  service.server.listen(0, '127.0.0.1');
  await once(service.server, 'listening');
  const { port } = service.server.address() as AddressInfo;
  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  return { metrics, scrape };
}

const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics access', () => {
  it('with METRICS_TOKEN: 401 without the bearer token or with a wrong one, 200 with it; the token never appears', async () => {
    const { scrape } = await start(TOKEN);
    const none = await scrape();
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toMatchObject({ error: 'metrics_unauthorized', message: expect.stringContaining('METRICS_TOKEN') });
    expect((await scrape({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await scrape({ authorization: `Basic ${TOKEN}` })).status).toBe(401);
    const ok = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.text).toContain('# TYPE hookway_webhooks_total counter');
    expect(ok.text).not.toContain(TOKEN);
  });

  it('without a token: answers a loopback request, refuses one that came through a proxy with 403 naming METRICS_TOKEN', async () => {
    const { scrape } = await start('');
    expect((await scrape()).status).toBe(200);
    // A local nginx passes the real client in X-Forwarded-For: that request is not this machine's.
    const proxied = await scrape({ 'x-forwarded-for': '203.0.113.7' });
    expect(proxied.status).toBe(403);
    expect(JSON.parse(proxied.text)).toMatchObject({ error: 'metrics_forbidden', message: expect.stringContaining('METRICS_TOKEN') });
    expect((await scrape({ 'x-real-ip': '203.0.113.7' })).status).toBe(403);
    // A trusted local proxy that says the client is local too.
    expect((await scrape({ 'x-forwarded-for': '127.0.0.1' })).status).toBe(200);
  });

  it('includes the process metrics (RSS, CPU, event-loop lag) once', async () => {
    const { scrape } = await start('');
    const { text } = await scrape();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
      expect(text.match(new RegExp(`^# TYPE ${name} `, 'gm'))).toHaveLength(1);
    }
    // A second registry in the same process shares them instead of starting collectors of its own.
    const other = await start('');
    expect((await other.scrape()).text.match(/^# TYPE process_resident_memory_bytes /gm)).toHaveLength(1);
  });
});

describe('isLoopbackRequest: the loopback rule, with proxies', () => {
  const loopbackTrusted = createProxyTrust(['loopback']);
  const nobodyTrusted = createProxyTrust([]);
  it.each<[string, string, IncomingHttpHeaders, 'loopback' | 'none', boolean]>([
    ['plain IPv4 loopback', '127.0.0.1', {}, 'loopback', true],
    ['another 127/8 address', '127.0.0.2', {}, 'none', true],
    ['IPv6 loopback', '::1', {}, 'loopback', true],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1', {}, 'none', true],
    ['a remote peer', '203.0.113.7', {}, 'loopback', false],
    ['a private-range peer', '10.0.0.5', {}, 'loopback', false],
    ['a remote peer claiming loopback', '203.0.113.7', { 'x-forwarded-for': '127.0.0.1' }, 'loopback', false],
    ['local proxy, remote client', '127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }, 'loopback', false],
    ['local proxy, chain ending remote', '127.0.0.1', { 'x-forwarded-for': '127.0.0.1, 203.0.113.7' }, 'loopback', false],
    ['local proxy, local client', '127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }, 'loopback', true],
    ['untrusted local proxy, local client claimed', '127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }, 'none', false],
    ['X-Real-IP remote', '127.0.0.1', { 'x-real-ip': '203.0.113.7' }, 'loopback', false],
    ['X-Real-IP local, trusted', '127.0.0.1', { 'x-real-ip': '127.0.0.1' }, 'loopback', true],
    ['X-Real-IP, untrusted proxy', '127.0.0.1', { 'x-real-ip': '127.0.0.1' }, 'none', false],
    ['Forwarded remote', '127.0.0.1', { forwarded: 'for=203.0.113.7;proto=https' }, 'loopback', false],
    ['Forwarded remote IPv6', '127.0.0.1', { forwarded: 'for="[2001:db8::1]:4711"' }, 'loopback', false],
    ['Forwarded local', '127.0.0.1', { forwarded: 'for=127.0.0.1' }, 'loopback', true],
    ['Forwarded without for=', '127.0.0.1', { forwarded: 'proto=https' }, 'loopback', false],
    ['Forwarded obfuscated', '127.0.0.1', { forwarded: 'for=_hidden' }, 'loopback', false],
    ['empty X-Forwarded-For from a trusted proxy', '127.0.0.1', { 'x-forwarded-for': '' }, 'loopback', true],
    ['no peer address', '', {}, 'loopback', false],
  ])('%s', (_case, remoteAddress, headers, trust, expected) => {
    expect(isLoopbackRequest({ remoteAddress, headers }, trust === 'loopback' ? loopbackTrusted : nobodyTrusted)).toBe(expected);
  });
});

describe('labels stay bounded', () => {
  it('folds bots past the limit into `other`, and keeps the ones it has', async () => {
    const metrics = new Metrics({ maxBotLabels: 2 });
    for (const bot of ['bot:00000001', 'bot:00000002', 'bot:00000003', 'bot:00000004', 'bot:00000001']) metrics.webhook('accepted', bot);
    const { body } = await metrics.render();
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'accepted', bot: 'bot:00000001' })).toBe(2);
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'accepted', bot: 'bot:00000002' })).toBe(1);
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'accepted', bot: 'other' })).toBe(2);
    expect(body).not.toContain('bot:00000003');
  });

  it('admits a bot label only with a verified event: refusals and op 13 for unseen secrets cannot use up the labels', async () => {
    const metrics = new Metrics({ maxBotLabels: 2 });
    // Anyone can POST /webhook/<any secret> (op 13, a bad signature, a huge body): each would be a new tag.
    for (let i = 1; i <= 5; i++) {
      metrics.webhook('bad_signature', `bot:0000000${i}`);
      metrics.webhook('validated', `bot:1000000${i}`);
    }
    metrics.webhook('accepted', 'bot:aaaaaaaa');
    metrics.webhook('bad_signature', 'bot:aaaaaaaa');
    const { body } = await metrics.render();
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'accepted', bot: 'bot:aaaaaaaa' })).toBe(1);
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'bad_signature', bot: 'bot:aaaaaaaa' })).toBe(1);
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'bad_signature', bot: 'unverified' })).toBe(5);
    expect(sample(body, 'hookway_webhooks_total', { outcome: 'validated', bot: 'unverified' })).toBe(5);
    expect(body).not.toContain('bot:00000001');
  });

  it('BotLabels: none for an unknown bot', () => {
    const labels = new BotLabels(1);
    expect([labels.label(undefined), labels.label('a'), labels.label('b'), labels.label('a')]).toEqual(['none', 'a', 'other', 'a']);
  });

  it.each([
    [1000, '1000'],
    [1006, '1006'],
    [4009, '4009'],
    [4101, '4101'],
    [3000, 'other'],
    [4999, 'other'],
    [0, 'other'],
  ])('close code %i → %s', (code, label) => expect(closeCodeLabel(code)).toBe(label));
});

describe('ActivityLog', () => {
  it('writes one line per active bot per interval, with its counts and clients, and nothing when idle', () => {
    const { stream, lines } = lineSink();
    const activity = new ActivityLog(createLogger({ level: 'info', redactor: createRedactor(), destination: stream }), {
      intervalMs: 3_600_000,
    });
    activity.watchClients(() => [{ bot: 'bot:00000001', clients: 2 }]);
    activity.flush();
    expect(lines).toEqual([]);
    activity.count('bot:00000001', 'accepted');
    activity.count('bot:00000001', 'accepted');
    activity.count('bot:00000001', 'duplicates');
    activity.count('bot:00000001', 'delivered');
    activity.count('bot:00000002', 'accepted');
    activity.flush();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toEqual([
      expect.objectContaining({ level: 'info', bot: 'bot:00000001', accepted: 2, duplicates: 1, delivered: 1, clients: 2 }),
      expect.objectContaining({ level: 'info', bot: 'bot:00000002', accepted: 1, duplicates: 0, delivered: 0, clients: 0 }),
    ]);
    expect(lines.flatMap(duplicateJsonKeys)).toEqual([]);
    activity.flush();
    expect(lines).toHaveLength(2);
    activity.close();
  });

  it('runs on its own timer', async () => {
    const { stream, lines } = lineSink();
    const activity = new ActivityLog(createLogger({ level: 'info', redactor: createRedactor(), destination: stream }), { intervalMs: 20 });
    activity.count('bot:00000001', 'delivered');
    await until(() => lines.length > 0, 'the activity line');
    activity.close();
    expect(JSON.parse(lines[0]!)).toMatchObject({ bot: 'bot:00000001', delivered: 1 });
  });
});

describe('duplicateJsonKeys', () => {
  it.each([
    ['{"a":1,"b":2}', []],
    ['{"role":"relay","role":"gateway"}', ['role']],
    ['{"a":{"x":1,"x":2},"b":[{"y":1,"y":1}]}', ['a.x', 'b[0].y']],
    ['{"a":"\\"role\\":1,\\"role\\":2"}', []],
  ])('%s', (text, expected) => expect(duplicateJsonKeys(text)).toEqual(expected));
});
