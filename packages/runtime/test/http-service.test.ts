import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RawHttpConnection } from '@hookway/testkit';
import { createHttpService, type HttpLimits, type HttpService } from '../src/index.ts';

const silent = pino({ level: 'silent' });
const running: HttpService[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) await service.close(2000);
});

/** A service whose one route reads the whole body and answers with its length. */
async function start(limits: HttpLimits) {
  const service = createHttpService({
    logger: silent,
    tcpKeepaliveDelayMs: 30_000,
    drainMs: 0,
    limits,
    health: [],
    handleRequest: (req, res) => {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => (bytes += chunk.length));
      req.on('end', () => res.end(JSON.stringify({ bytes })));
    },
    services: [],
    backends: [],
  });
  running.push(service);
  service.server.listen(0, '127.0.0.1');
  await once(service.server, 'listening');
  const { port } = service.server.address() as AddressInfo;
  const healthz = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
  return { service, port, healthz };
}

const roomy: HttpLimits = { headersTimeoutMs: 5000, requestTimeoutMs: 10_000, maxConnections: 100 };

describe('createHttpService limits', () => {
  it.each([
    ['headers that never finish', 'GET /x HTTP/1.1\r\nHost: x\r\n', { headersTimeoutMs: 500, requestTimeoutMs: 5000 }, 500],
    [
      'a body that stalls',
      'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789',
      { headersTimeoutMs: 500, requestTimeoutMs: 800 },
      800,
    ],
  ])(
    'answers %s with 408 JSON and closes the connection, within the timeout plus the check interval',
    async (_case, sent, timeouts, limitMs) => {
      const { port, healthz } = await start({ ...roomy, ...timeouts });
      const client = await RawHttpConnection.open(port);
      const startedMs = Date.now();
      await client.write(sent);
      await client.closed;
      const elapsedMs = Date.now() - startedMs;
      expect(client.answer()).toEqual({
        status: 408,
        body: { error: 'request_timeout', message: expect.stringMatching(/HTTP_HEADERS_TIMEOUT_MS.*HTTP_BODY_TIMEOUT_MS/) },
      });
      // Node's own check runs every 30 s by default; this one every 250 ms (generous bound for a busy machine).
      expect(elapsedMs).toBeGreaterThanOrEqual(limitMs - 50);
      expect(elapsedMs).toBeLessThan(limitMs + 2000);
      expect(await healthz()).toMatchObject({ httpRequestsTimedOut: 1 });
    },
  );

  it('lets a request that arrives in time through', async () => {
    const { port, healthz } = await start({ ...roomy, headersTimeoutMs: 500, requestTimeoutMs: 800 });
    const client = await RawHttpConnection.open(port);
    await client.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    await client.closed;
    expect(client.answer()).toEqual({ status: 200, body: { bytes: 3 } });
    expect(await healthz()).toMatchObject({ httpRequestsTimedOut: 0 });
  });

  it('answers a request the parser refuses with 400 JSON and counts it', async () => {
    const { port, healthz } = await start(roomy);
    const client = await RawHttpConnection.open(port);
    await client.write('NOT HTTP AT ALL\r\n\r\n');
    await client.closed;
    expect(client.answer()).toEqual({ status: 400, body: { error: 'bad_request', message: expect.any(String) } });
    expect(await healthz()).toMatchObject({ httpRequestsMalformed: 1, httpRequestsTimedOut: 0 });
  });

  it('refuses connections past MAX_CONNECTIONS at once, and counts them', async () => {
    const { service, port, healthz } = await start({ ...roomy, maxConnections: 2 });
    const held = [await RawHttpConnection.open(port), await RawHttpConnection.open(port)];
    const refused = await RawHttpConnection.open(port);
    await refused.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await refused.closed).toBe('');
    for (const c of held) c.destroy();
    await Promise.all(held.map((c) => c.closed));
    // Wait until the server has seen both go (its count is updated on its side of the close).
    while ((await new Promise<number>((r) => service.server.getConnections((_e, n) => r(n)))) > 0) await new Promise(setImmediate);
    expect(await healthz()).toMatchObject({ httpConnectionsRefused: 1 });
  });
});
