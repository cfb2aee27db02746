import { describe, expect, it } from 'vitest';
import { secretFingerprint } from '@hookway/protocol';
import { groupAtMessage } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';

const { start } = ingressFixture();

describe('everything that is not a webhook POST', () => {
  it('answers other methods with 405, plain HTTP on /ws with 426 and other paths with 404, as JSON', async () => {
    const r = await start();
    const get = await fetch(`${r.baseUrl}/webhook?secret=${SECRET}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toMatchObject({ error: 'method_not_allowed' });
    const plainWs = await fetch(`${r.baseUrl}/ws?secret=${SECRET}`);
    expect(plainWs.status).toBe(426);
    expect(plainWs.headers.get('upgrade')).toBe('websocket');
    expect(await plainWs.json()).toMatchObject({ error: 'upgrade_required' });
    const plainGateway = await fetch(`${r.baseUrl}/websocket`);
    expect(plainGateway.status).toBe(426);
    expect(await plainGateway.json()).toMatchObject({ error: 'upgrade_required' });
    // Without an OpenAPI handler nothing else is served (openapi.test.ts covers the pass-through).
    const other = await fetch(`${r.baseUrl}/nope`, { method: 'POST', body: '{}' });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: 'not_found' });
  });

  it('answers an undecodable path on a non-POST webhook or plain /ws with JSON, never an HTML stack trace', async () => {
    const r = await start();
    for (const [path, status] of [
      [`/webhook/${SECRET}%ZZ`, 405],
      ['/ws/abc%ZZdef', 426],
      ['/elsewhere%ZZ', 404],
    ] as const) {
      const res = await fetch(`${r.baseUrl}${path}`);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.text()).not.toMatch(/URIError|at .*\.js/);
    }
  });

  it('answers 500 as JSON, and logs the error, when a handler behind it throws', async () => {
    const r = await start(
      {},
      {
        openApi: () => ({
          serve: () => {
            throw new Error('handler broke');
          },
          stats: () => ({ openApiForwarded: 0, openApiForwardsFailed: 0, openApiSecretsRefused: 0, openApiDisabled: 0 }),
        }),
      },
    );
    const res = await fetch(`${r.baseUrl}/users/@me`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal_error', message: 'internal error' });
    const logged = r.logs.map((line) => JSON.parse(line) as { level: string; msg: string; err?: { message: string } });
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'unexpected error handling request',
        err: expect.objectContaining({ message: 'handler broke' }),
      }),
    );
  });
});

describe('when events cannot be stored', () => {
  it('answers webhooks 503 once the ingress stops accepting (shutdown), so the platform retries', async () => {
    const r = await start();
    expect(r.ingress.notReadyReason()).toBeUndefined();
    await r.ingress.close();
    const res = await r.sender().dispatch(groupAtMessage());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.json()).toMatchObject({ error: 'shutting_down' });
    expect(r.ingress.notReadyReason()).toBe('shutting down');
    expect(await r.accepted()).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ webhooksUnavailable: 1, webhooksAccepted: 0 });
  });

  it('answers 503 bus_unavailable with retry-after when the bus is not ready, and says so for /readyz', async () => {
    const r = await start();
    await r.events.close();
    expect(r.ingress.notReadyReason()).toBe('bus not ready');
    const webhook = await r.sender().dispatch(groupAtMessage());
    expect(webhook.status).toBe(503);
    expect(webhook.headers.get('retry-after')).toBe('1');
    expect(webhook.json()).toMatchObject({ error: 'bus_unavailable' });
    expect(r.ingress.stats()).toMatchObject({ webhooksUnavailable: 1 });
    expect(r.logs.join('')).toMatch(/webhook not stored: bus unavailable/);
  });

  it('still answers op 13 while the bus is down: validation needs no storage', async () => {
    const r = await start();
    await r.events.close();
    expect((await r.sender().validate('token', '1725442341')).status).toBe(200);
  });
});

describe('logs', () => {
  it('name the bot by fingerprint and the outcome of every webhook, never the AppSecret', async () => {
    const r = await start();
    const sender = r.sender();
    await sender.validate('token', '1725442341');
    await sender.dispatch(groupAtMessage());
    await sender.dispatch(groupAtMessage(), { signature: null });
    await sender.dispatch(groupAtMessage(), { signature: 'f'.repeat(128) });
    await sender.post('{bad json', {});
    await sender.post('{"op":7}', {}, `/webhook/${SECRET}`);
    await sender.post(Buffer.from([0x1f, 0x8b]), { 'content-encoding': 'gzip' });
    await fetch(`${r.baseUrl}/webhook/${SECRET}`);
    const entries = r.logs.map((line) => JSON.parse(line) as { bot?: string; outcome?: string; msg: string });
    // Besides the line per webhook, the first op 13 of a bot gets a line of its own (observability.test.ts in apps/relay).
    expect(entries.filter((e) => e.msg.startsWith('callback validated'))).toHaveLength(1);
    expect(entries.filter((e) => !e.msg.startsWith('callback validated')).map((e) => e.outcome)).toEqual([
      'validated',
      'accepted',
      'missing_signature',
      'bad_signature',
      'malformed_json',
      'invalid_payload',
      'unsupported_content_encoding',
    ]);
    expect(entries.every((e) => e.bot === secretFingerprint(SECRET))).toBe(true);
    expect(r.logs.join('')).not.toContain(SECRET);
  });
});
