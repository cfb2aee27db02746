import { describe, expect, it } from 'vitest';
import { checkEventBody, DISPATCH_ACK_BODY } from '@hookway/protocol';
import { ingressFixture } from './harness.ts';

const { start } = ingressFixture();
const NONCE = 'checkNonce_-0123456789abcdefABCDEF';

/**
 * `hookway check`'s test event at the ingress: the signature is verified before anything else, exactly as for op 0;
 * only then does the body go to the check channel of its nonce, and never to the bot's log.
 */
describe('the check event (op -1 HOOKWAY_CHECK)', () => {
  it('reaches the check subscriber of its nonce, and not the bot’s log, when correctly signed', async () => {
    const r = await start();
    const received: string[] = [];
    await r.events.subscribeCheck(NONCE, (b) => received.push(b.toString()));
    const body = checkEventBody(NONCE, 1);
    const res = await r.sender().dispatch(body);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ...(JSON.parse(DISPATCH_ACK_BODY) as object), check: 'delivered' });
    expect(received).toEqual([body]);
    expect(await r.accepted()).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ webhookChecks: 1, webhooksAccepted: 0, webhooksRejected: 0 });
  });

  it.each([
    ['unsigned', { signature: null }, 'missing_signature'],
    ['signed with another secret', { signature: 'ab'.repeat(64) }, 'bad_signature'],
    ['a stale timestamp', { timestamp: '1000000000' }, 'stale_timestamp'],
  ] as const)('is refused like any bad webhook when %s, and reaches nobody', async (_case, options, error) => {
    const r = await start();
    const received: string[] = [];
    await r.events.subscribeCheck(NONCE, (b) => received.push(b.toString()));
    const res = await r.sender().dispatch(checkEventBody(NONCE, 1), options);
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error });
    expect(received).toEqual([]);
    expect(await r.accepted()).toEqual([]);
  });

  it('is refused after its signature verified when it is not a check envelope', async () => {
    const r = await start();
    const res = await r.sender().dispatch('{"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"short"}}');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_check' });
    expect(await r.accepted()).toEqual([]);
  });

  it('answers 404 check_undelivered when no check socket holds the nonce', async () => {
    const r = await start();
    const res = await r.sender().dispatch(checkEventBody(NONCE, 1));
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error: 'check_undelivered' });
    expect(await r.accepted()).toEqual([]);
  });
});
