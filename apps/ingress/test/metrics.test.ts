import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { MEMORY_BACKEND } from '@hookway/redis';
import { createLogger, createRedactor, defaultConfig, type Config, type HttpService } from '@hookway/runtime';
import { groupAtMessage, lineSink, promSample, WebhookSender } from '@hookway/testkit';
import { createIngressService } from '../src/index.ts';
import { SECRET } from './harness.ts';

const running: HttpService[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) await service.close(2000);
});

/** The ingress role as `pnpm start:ingress` builds it (on the in-process backend), on a real port. */
async function startIngressService(overrides: Partial<Config> = {}) {
  const { stream, lines } = lineSink();
  const redactor = createRedactor();
  const logger = createLogger({ level: 'info', redactor, destination: stream }).child({ role: 'ingress' });
  const service = createIngressService({ config: defaultConfig(overrides), logger, redactor }, MEMORY_BACKEND);
  running.push(service);
  service.server.listen(0, '127.0.0.1');
  await once(service.server, 'listening');
  const baseUrl = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  return { baseUrl, lines };
}

describe('GET /metrics on the ingress role', () => {
  it('counts the webhooks it answered and the publishes it timed', async () => {
    const { baseUrl, lines } = await startIngressService();
    const sender = new WebhookSender(baseUrl, SECRET);
    const body = groupAtMessage();
    expect((await sender.dispatch(body)).status).toBe(200);
    expect((await sender.dispatch(body)).status).toBe(200);
    expect((await sender.post('not json')).status).toBe(400);
    expect((await sender.post('{}', {}, '/webhook')).status).toBe(404);
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const tag = AppSecret.parse(SECRET)!.tag;
    expect(promSample(text, 'hookway_webhooks_total', { outcome: 'accepted', bot: tag })).toBe(1);
    expect(promSample(text, 'hookway_webhooks_total', { outcome: 'duplicate', bot: tag })).toBe(1);
    expect(promSample(text, 'hookway_webhooks_total', { outcome: 'malformed_json', bot: tag })).toBe(1);
    expect(promSample(text, 'hookway_webhooks_total', { outcome: 'unknown_bot', bot: 'none' })).toBe(1);
    expect(promSample(text, 'hookway_publish_duration_seconds_count', { result: 'accepted' })).toBe(1);
    expect(promSample(text, 'hookway_store_ready')).toBe(1);
    expect(text).not.toContain(SECRET);
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('needs the bearer token when METRICS_TOKEN is set', async () => {
    const token = 'ingress-metrics-token-0123456789';
    const { baseUrl } = await startIngressService({ metricsToken: token });
    expect((await fetch(`${baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });
});
