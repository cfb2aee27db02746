import { describe, expect, it } from 'vitest';
import { DISPATCH_ACK_BODY } from '@hookway/protocol';
import { groupAtMessage, WsCollector } from '@hookway/testkit';
import { relayFixture, SECRET, sleep } from './harness.ts';

// qq-protocol.md §2.7 V1 and V4.
const V1_SIGNATURE =
  '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706';
const V4 = {
  timestamp: '1725442400',
  body: '{"op":0,"id":"GROUP_AT_MESSAGE_CREATE:k2vq0ghb1s7tfe4ua9xw3nrzyjl6ipmd5c8ob1qhdt0uw7ae2fz","d":{"id":"ROBOT1.0_kX9.Tr2dQ0mB4wYp7Lz8aVgS3nHc1fEj6uKqR5tM!","content":" /weather 北京","timestamp":"2024-09-04T17:33:20+08:00","author":{"id":"E4F4AEA33253A2797FB897C50B81D7ED","member_openid":"E4F4AEA33253A2797FB897C50B81D7ED","union_openid":"E4F4AEA33253A2797FB897C50B81D7ED"},"group_id":"C9F778FE6ADF9D1D1DBE395BF744A33A","group_openid":"C9F778FE6ADF9D1D1DBE395BF744A33A","message_scene":{"source":"default"},"message_type":0},"t":"GROUP_AT_MESSAGE_CREATE"}',
  signature:
    '2d6f6094b2554f48577f3d2a146e9a0074bad7f579684951885e80fcbc25de361e56b7303e472ce826441c87052cdf0daf26188d0544da994db9995778450805',
};

const { start } = relayFixture();

describe('op 13 callback validation', () => {
  it.each([
    ['query', `/webhook?secret=${SECRET}`],
    ['path', `/webhook/${SECRET}`],
  ])('answers at once with no client connected (%s form)', async (_form, path) => {
    const r = await start();
    const res = await r.sender().validate('Arq0D5A61EgUu4OxUvOp', '1725442341', path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.json()).toEqual({ plain_token: 'Arq0D5A61EgUu4OxUvOp', signature: V1_SIGNATURE });
  });

  it('rejects op 13 without plain_token/event_ts strings', async () => {
    const r = await start();
    const res = await r.sender().post('{"op":13,"d":{"plain_token":5}}');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_validation_request' });
  });
});

describe('op 0 dispatch', () => {
  it('acknowledges a correctly signed event with {"op":12,"d":0} and delivers it', async () => {
    const r = await start();
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const body = groupAtMessage();
    const res = await r.sender().dispatch(body);
    expect(res.status).toBe(200);
    expect(res.text).toBe(DISPATCH_ACK_BODY);
    expect(await client.waitForFrames(1)).toEqual([body]);
    client.close();
  });

  it('accepts the path form /webhook/<secret> identically', async () => {
    const r = await start();
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const body = groupAtMessage();
    expect((await r.sender().dispatch(body, { path: `/webhook/${SECRET}` })).text).toBe(DISPATCH_ACK_BODY);
    expect(await client.waitForFrames(1)).toEqual([body]);
    client.close();
  });

  it('verifies the platform vector V4 byte for byte (timestamp check disabled for its 2024 date)', async () => {
    const r = await start({ signatureMaxSkewSec: 0 });
    const client = await WsCollector.connect(r.wsUrl(`/ws/${SECRET}`));
    const res = await r.sender().dispatch(V4.body, { timestamp: V4.timestamp, signature: V4.signature });
    expect(res.status).toBe(200);
    expect(await client.waitForFrames(1)).toEqual([V4.body]);
    client.close();
  });

  it.each([
    ['a missing signature', { signature: null }, 'missing_signature'],
    ['a malformed signature', { signature: 'abc' }, 'malformed_signature'],
    ['a signature from another secret', { signature: V4.signature }, 'bad_signature'],
    ['a missing timestamp', { headers: { 'x-signature-timestamp': '' } }, 'missing_timestamp'],
  ] as const)('answers %s with 401 and delivers nothing', async (_name, options, error) => {
    const r = await start();
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const res = await r.sender().dispatch(groupAtMessage(), options);
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error });
    expect(res.json<{ message: string }>().message.length).toBeGreaterThan(10);
    const good = groupAtMessage();
    await r.sender().dispatch(good);
    expect(await client.waitForFrames(1)).toEqual([good]);
    await sleep(50);
    expect(client.frames).toHaveLength(1);
    client.close();
  });

  it('answers a tampered body with 401', async () => {
    const r = await start({ signatureMaxSkewSec: 0 });
    const res = await r.sender().dispatch(V4.body.replace('北京', '上海'), { timestamp: V4.timestamp, signature: V4.signature });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'bad_signature' });
  });

  it('rejects timestamps outside the window as replays, in both directions', async () => {
    const r = await start({ signatureMaxSkewSec: 300 });
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now - 301, now + 301]) {
      const res = await r.sender().dispatch(groupAtMessage(), { timestamp: String(ts) });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'stale_timestamp' });
      expect(res.json<{ message: string }>().message).toMatch(/SIGNATURE_MAX_SKEW_SEC/);
    }
    expect((await r.sender().dispatch(groupAtMessage(), { timestamp: String(now - 290) })).status).toBe(200);
  });

  it('acknowledges a platform retry (same top-level id) but delivers it once', async () => {
    const r = await start();
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const body = groupAtMessage();
    const first = await r.sender().dispatch(body);
    const retry = await r.sender().dispatch(body);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.text).toBe(DISPATCH_ACK_BODY);
    expect(retry.headers.get('x-hookway-duplicate')).toBe('1');
    const next = groupAtMessage();
    await r.sender().dispatch(next);
    expect(await client.waitForFrames(2)).toEqual([body, next]);
    await sleep(50);
    expect(client.frames).toHaveLength(2);
    client.close();
  });

  it('delivers a retry again once the dedup window has passed', async () => {
    let now = Date.now();
    const r = await start({ dedupWindowSec: 60, signatureMaxSkewSec: 0 }, { nowMs: () => now });
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const body = groupAtMessage();
    await r.sender().dispatch(body);
    now += 61_000;
    expect((await r.sender().dispatch(body)).headers.get('x-hookway-duplicate')).toBeNull();
    expect(await client.waitForFrames(2)).toEqual([body, body]);
    client.close();
  });
});

describe('bad input', () => {
  it('answers malformed JSON with 400', async () => {
    const r = await start();
    for (const body of ['{"op":0,', '', 'null', '[1,2]']) {
      const res = await r.sender().post(body);
      expect(res.status, body).toBe(400);
      expect(['malformed_json', 'invalid_payload']).toContain(res.json<{ error: string }>().error);
    }
  });

  it('answers a body over MAX_BODY_BYTES with 413', async () => {
    const r = await start({ maxBodyBytes: 4096 });
    const res = await r.sender().dispatch(groupAtMessage({ content: 'x'.repeat(5000) }));
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ error: 'body_too_large' });
    expect(res.json<{ message: string }>().message).toMatch(/MAX_BODY_BYTES/);
  });

  it('answers a chunked body (no Content-Length) that grows past MAX_BODY_BYTES with 413', async () => {
    const r = await start({ maxBodyBytes: 4096 });
    const { request } = await import('node:http');
    const url = new URL(`/webhook?secret=${SECRET}`, r.baseUrl);
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(status.code).toBe(413);
    expect(JSON.parse(status.body)).toMatchObject({ error: 'body_too_large' });
  });

  it.each([
    ['no secret', '/webhook'],
    ['an empty secret', '/webhook?secret='],
    ['a too-short secret', '/webhook?secret=abc'],
    ['a secret with spaces', '/webhook?secret=has%20space%20inside'],
    ['an absurdly long secret', `/webhook/${'a'.repeat(200)}`],
    ['a repeated secret parameter', `/webhook?secret=${SECRET}&secret=${SECRET}`],
  ])('answers %s with 400', async (_name, path) => {
    const r = await start();
    const res = await r.sender().post('{"op":13,"d":{"plain_token":"a","event_ts":"1"}}', {}, path);
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_secret' });
  });

  it('answers opcodes other than 0 and 13 with 400 unsupported_op', async () => {
    const r = await start();
    for (const op of [1, 2, 12, 99]) {
      const res = await r.sender().post(JSON.stringify({ op, d: {} }));
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'unsupported_op' });
    }
  });

  it('answers a non-integer op or an id that is not a string with 400', async () => {
    const r = await start();
    for (const body of ['{"op":"0"}', '{"op":0.5}', '{"op":0,"id":42,"d":{}}']) {
      const res = await r.sender().post(body);
      expect(res.status, body).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_payload' });
    }
  });

  it('refuses compressed bodies (the signature covers the bytes as sent) with 415', async () => {
    const r = await start();
    const res = await r.sender().post(Buffer.from([0x1f, 0x8b, 0, 0]), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(415);
    expect(res.json()).toHaveProperty('error');
  });

  it('answers other methods with 405, plain HTTP on /ws with 426 and other paths through the pass-through, as JSON', async () => {
    const r = await start();
    const get = await fetch(`${r.baseUrl}/webhook?secret=${SECRET}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const plainWs = await fetch(`${r.baseUrl}/ws?secret=${SECRET}`);
    expect(plainWs.status).toBe(426);
    expect(await plainWs.json()).toMatchObject({ error: 'upgrade_required' });
    // Any other path is an OpenAPI call for the upstream (here a closed port): a JSON 502, never a hang.
    const other = await fetch(`${r.baseUrl}/nope`);
    expect(other.status).toBe(502);
    expect(await other.json()).toMatchObject({ error: 'upstream_unreachable' });
  });
});
