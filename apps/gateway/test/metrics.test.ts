import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MEMORY_BACKEND } from '@hookway/redis';
import { createLogger, createRedactor, defaultConfig, type HttpService } from '@hookway/runtime';
import { lineSink, promSample, until, WsCollector } from '@hookway/testkit';
import { createGatewayService } from '../src/index.ts';
import { SECRET } from './gateway-fixture.ts';

const running: HttpService[] = [];
const clients: WsCollector[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const service of running.splice(0)) await service.close(2000);
});

describe('GET /metrics on the gateway role', () => {
  it('shows connected clients by mode and closes by code; refuses a proxied request without METRICS_TOKEN', async () => {
    const { stream } = lineSink();
    const redactor = createRedactor();
    const logger = createLogger({ level: 'info', redactor, destination: stream }).child({ role: 'gateway' });
    const config = defaultConfig({ clientKeysFile: join(mkdtempSync(join(tmpdir(), 'hookway-gw-metrics-')), 'keys.json') });
    const service = createGatewayService({ config, logger, redactor }, MEMORY_BACKEND);
    running.push(service);
    service.server.listen(0, '127.0.0.1');
    await once(service.server, 'listening');
    const { port } = service.server.address() as AddressInfo;
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

    const client = await WsCollector.connect(`ws://127.0.0.1:${port}/ws?secret=${SECRET}`);
    clients.push(client);
    await until(async () => promSample(await scrape(), 'hookway_clients', { mode: 'raw' }) === 1, 'the raw client in the gauge');
    expect(promSample(await scrape(), 'hookway_clients', { mode: 'gateway' })).toBe(0);
    client.ws.close(4000);
    await client.closed;
    await until(async () => promSample(await scrape(), 'hookway_client_closes_total', { mode: 'raw', code: '4000' }) === 1, 'the close');
    expect(promSample(await scrape(), 'hookway_clients', { mode: 'raw' })).toBe(0);

    const proxied = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(proxied.status).toBe(403);
  });
});
