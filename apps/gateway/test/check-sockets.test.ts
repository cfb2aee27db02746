import { describe, expect, it } from 'vitest';
import { checkEventBody } from '@hookway/protocol';
import { groupAtMessage, upgradeAnswer, type WsCollector } from '@hookway/testkit';
import { MAX_CHECK_SOCKETS } from '../src/check-sockets.ts';
import { addKey, BOT, gatewayFixture } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const nonce = (i: number) => `checkNonce${String(i).padStart(4, '0')}_-abcdefghijklmnop`;

/** `hookway check`'s sockets on the gateway: they hear their nonce's check channel, and nothing of any bot. */
describe('check sockets (/ws/check/<nonce>)', () => {
  it('say ready, receive the check event of their nonce only, and never a bot event', async () => {
    const g = await start();
    const mine = await connect(g, `/ws/check/${nonce(1)}`);
    const other = await connect(g, `/ws/check/${nonce(2)}`);
    const [ready] = await mine.waitForFrames(1);
    expect(JSON.parse(ready!)).toEqual({ hookway: 'check_ready', nonce: nonce(1) });
    await other.waitForFrames(1);
    await g.publish(groupAtMessage());
    const check = checkEventBody(nonce(1), 1);
    expect(await g.stores.events.publishCheck(nonce(1), Buffer.from(check))).toBe(1);
    expect(await mine.waitForFrames(2)).toEqual([ready, check]);
    // The other socket got only its ready frame: a frame for it now would follow anything sent before.
    const late = checkEventBody(nonce(2), 2);
    await g.stores.events.publishCheck(nonce(2), Buffer.from(late));
    expect((await other.waitForFrames(2))[1]).toBe(late);
    expect(mine.frames).toHaveLength(2);
  });

  it('name the client key’s bot in the ready frame, and refuse a key that does not exist (401)', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys, { name: 'home-pc', appid: BOT.appid, events: ['C2C_MESSAGE_CREATE'] });
    const c = await connect(g, `/ws/check/${nonce(3)}`, { headers: { authorization: `Bearer ${key}` } });
    const [ready] = await c.waitForFrames(1);
    expect(JSON.parse(ready!)).toMatchObject({
      hookway: 'check_ready',
      key: { name: 'home-pc', appid: BOT.appid, events: ['C2C_MESSAGE_CREATE'] },
    });
    expect(ready).not.toContain(key);
    const refused = await upgradeAnswer(g.url(`/ws/check/${nonce(4)}`), { headers: { authorization: `Bearer hwk_${'x'.repeat(43)}` } });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'invalid_key' });
  });

  it(`are limited to ${MAX_CHECK_SOCKETS} at a time (503 too_many_checks)`, async () => {
    const g = await start();
    const open: WsCollector[] = [];
    for (let i = 0; i < MAX_CHECK_SOCKETS; i++) open.push(await connect(g, `/ws/check/${nonce(100 + i)}`));
    const refused = await upgradeAnswer(g.url(`/ws/check/${nonce(999)}`));
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'too_many_checks' });
    open[0]!.close();
    await open[0]!.closed;
    const again = await connect(g, `/ws/check/${nonce(998)}`);
    await again.waitForFrames(1);
  });
});
