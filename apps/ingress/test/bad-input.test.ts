import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { signDispatch } from '@hookway/protocol';
import { groupAtMessage } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';
import { V4 } from './vectors.ts';

const { start } = ingressFixture();

describe('signatures and timestamps', () => {
  it.each([
    ['a missing signature', { signature: null }, 'missing_signature'],
    ['a malformed signature', { signature: 'abc' }, 'malformed_signature'],
    ['a signature from another secret', { signature: V4.signature }, 'bad_signature'],
    ['a missing timestamp', { headers: { 'x-signature-timestamp': '' } }, 'missing_timestamp'],
  ] as const)('answers %s with 401 and publishes nothing', async (_name, options, error) => {
    const r = await start();
    const res = await r.sender().dispatch(groupAtMessage(), options);
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error });
    expect(res.json<{ message: string }>().message.length).toBeGreaterThan(10);
    const good = groupAtMessage();
    await r.sender().dispatch(good);
    expect(await r.accepted()).toEqual([good]);
    expect(r.ingress.stats()).toMatchObject({ webhooksRejected: 1, webhooksAccepted: 1 });
  });

  it('answers a tampered body with 401', async () => {
    const r = await start({ signatureMaxSkewSec: 0 });
    const res = await r.sender().dispatch(V4.body.replace('北京', '上海'), { timestamp: V4.timestamp, signature: V4.signature });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'bad_signature' });
    expect(await r.accepted()).toEqual([]);
  });

  it('rejects timestamps outside the window as replays, in both directions', async () => {
    // On a fixed clock: with the wall clock, a busy machine could let a second pass between signing and checking.
    const nowMs = Date.now();
    const r = await start({ signatureMaxSkewSec: 300 }, { nowMs: () => nowMs });
    const now = Math.floor(nowMs / 1000);
    for (const ts of [now - 301, now + 301]) {
      const res = await r.sender().dispatch(groupAtMessage(), { timestamp: String(ts) });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'stale_timestamp' });
      expect(res.json<{ message: string }>().message).toMatch(/SIGNATURE_MAX_SKEW_SEC/);
    }
    expect(await r.accepted()).toEqual([]);
    const fresh = groupAtMessage();
    expect((await r.sender().dispatch(fresh, { timestamp: String(now - 290) })).status).toBe(200);
    expect(await r.accepted()).toEqual([fresh]);
  });

  it('refuses a validly signed body that is not UTF-8 (it could not travel as a text frame)', async () => {
    const r = await start();
    const body = Buffer.concat([Buffer.from('{"op":0,"id":"X:1","d":{"c":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await r.sender().post(body, { 'x-signature-timestamp': ts, 'x-signature-ed25519': signDispatch(SECRET, ts, body) });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_utf8' });
    const good = groupAtMessage();
    await r.sender().dispatch(good);
    expect(await r.accepted()).toEqual([good]);
  });
});

describe('bodies', () => {
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
    expect(await r.accepted()).toEqual([]);
  });

  it('accepts a body of exactly MAX_BODY_BYTES', async () => {
    const r = await start({ maxBodyBytes: 4096 });
    const shell = groupAtMessage({ content: '' });
    const body = groupAtMessage({ content: 'x'.repeat(4096 - Buffer.byteLength(shell)) });
    expect(Buffer.byteLength(body)).toBe(4096);
    expect((await r.sender().dispatch(body)).status).toBe(200);
    expect(await r.accepted()).toEqual([body]);
  });

  it('answers a chunked body (no Content-Length) that grows past MAX_BODY_BYTES with 413', async () => {
    const r = await start({ maxBodyBytes: 4096 });
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
});

describe('secrets in the URL', () => {
  it.each([
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
});
