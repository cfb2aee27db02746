import { describe, expect, it } from 'vitest';
import type { BusEvent } from '@hookway/bus';
import { AppSecret, DISPATCH_ACK_BODY } from '@hookway/protocol';
import { groupAtMessage, idOf } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';
import { V1_SIGNATURE, V4 } from './vectors.ts';

const { start } = ingressFixture();

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
    expect(await r.accepted()).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ webhooksValidated: 1, webhooksAccepted: 0 });
  });

  it('rejects op 13 without plain_token/event_ts strings', async () => {
    const r = await start();
    const res = await r.sender().post('{"op":13,"d":{"plain_token":5}}');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_validation_request' });
  });
});

describe('op 0 dispatch', () => {
  it('acknowledges a correctly signed event with {"op":12,"d":0} only once it is on the bus', async () => {
    const r = await start();
    const live: BusEvent[] = [];
    await r.events.subscribe(AppSecret.of(SECRET), (event) => live.push(event));
    const body = groupAtMessage();
    const res = await r.sender().dispatch(body);
    expect(res.status).toBe(200);
    expect(res.text).toBe(DISPATCH_ACK_BODY);
    // With its length, not chunked: node writes the whole answer in one piece.
    expect(res.headers.get('content-length')).toBe(String(DISPATCH_ACK_BODY.length));
    expect(res.headers.get('transfer-encoding')).toBeNull();
    // Subscribers are called synchronously on publish: the event was published before the answer went out.
    expect(live.map((e) => [e.seq, e.eventId, e.body.toString()])).toEqual([[1, idOf(body), body]]);
    expect(await r.accepted()).toEqual([body]);
    expect(r.ingress.stats()).toMatchObject({ webhooksAccepted: 1, webhooksRejected: 0 });
  });

  it('accepts the path form /webhook/<secret> identically', async () => {
    const r = await start();
    const body = groupAtMessage();
    expect((await r.sender().dispatch(body, { path: `/webhook/${SECRET}` })).text).toBe(DISPATCH_ACK_BODY);
    expect(await r.accepted()).toEqual([body]);
  });

  it('keeps bots apart: an event is published under the secret it was verified with', async () => {
    const r = await start();
    const other = 'naOC0ocQE3shWLAfffVLB1rhYPG7';
    const [mine, theirs] = [groupAtMessage(), groupAtMessage()];
    await r.sender().dispatch(mine);
    await r.sender(other).dispatch(theirs);
    expect(await r.accepted()).toEqual([mine]);
    expect(await r.accepted(other)).toEqual([theirs]);
  });

  it('verifies the platform vector V4 byte for byte (timestamp check disabled for its 2024 date)', async () => {
    const r = await start({ signatureMaxSkewSec: 0 });
    const res = await r.sender().dispatch(V4.body, { timestamp: V4.timestamp, signature: V4.signature });
    expect(res.status).toBe(200);
    const [stored] = (await r.events.history(AppSecret.of(SECRET))).events;
    expect(stored!.body.equals(Buffer.from(V4.body, 'utf8'))).toBe(true);
    expect(stored!.eventId).toBe(idOf(V4.body));
  });

  it('acknowledges a platform retry (same top-level id) but publishes it once', async () => {
    const r = await start();
    const body = groupAtMessage();
    const first = await r.sender().dispatch(body);
    const retry = await r.sender().dispatch(body);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(first.headers.get('x-hookway-duplicate')).toBeNull();
    expect(retry.text).toBe(DISPATCH_ACK_BODY);
    expect(retry.headers.get('x-hookway-duplicate')).toBe('1');
    const next = groupAtMessage();
    await r.sender().dispatch(next);
    expect(await r.accepted()).toEqual([body, next]);
    expect(r.ingress.stats()).toMatchObject({ webhooksAccepted: 2, webhooksDuplicate: 1 });
  });

  it('publishes a retry again once the dedup window has passed', async () => {
    let now = Date.now();
    const r = await start({ dedupWindowSec: 60, signatureMaxSkewSec: 0 }, { nowMs: () => now });
    const body = groupAtMessage();
    await r.sender().dispatch(body);
    now += 61_000;
    expect((await r.sender().dispatch(body)).headers.get('x-hookway-duplicate')).toBeNull();
    expect(await r.accepted()).toEqual([body, body]);
  });

  it('accepts an event without a top-level id (it cannot be de-duplicated, so each copy is published)', async () => {
    const r = await start();
    const body = JSON.stringify({ op: 0, d: { content: 'no id' }, t: 'C2C_MESSAGE_CREATE' });
    expect((await r.sender().dispatch(body)).status).toBe(200);
    expect((await r.sender().dispatch(body)).status).toBe(200);
    expect(await r.accepted()).toEqual([body, body]);
  });
});
