import { describe, expect, it } from 'vitest';
import { groupAtMessage } from '@hookway/testkit';
import { gatewayFixture, SECRET } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();

describe('frames from clients', () => {
  it('answers a gateway-style heartbeat with {"op":11}', async () => {
    const g = await start();
    const c = await connect(g, `/ws?secret=${SECRET}`);
    c.ws.send('{"op":1,"d":null}');
    c.ws.send('{"op":1,"d":42}');
    c.ws.send('{"op":1}');
    expect(await c.waitForFrames(3)).toEqual(['{"op":11}', '{"op":11}', '{"op":11}']);
  });

  it('ignores garbage, binary and unknown frames without harm', async () => {
    const g = await start();
    const c = await connect(g, `/ws?secret=${SECRET}`);
    for (const junk of ['not json', '{"op":', '[]', 'null', '{"op":"1"}', '{"op":2,"d":{}}', '\u0000\uffff']) c.ws.send(junk);
    c.ws.send(Buffer.from([0xff, 0x00, 0x13]));
    // The heartbeat's answer shows the server has read every frame sent before it.
    c.ws.send('{"op":1}');
    expect(await c.waitForFrames(1)).toEqual(['{"op":11}']);
    const body = groupAtMessage();
    await g.publish(body);
    expect(await c.waitForFrames(2)).toEqual(['{"op":11}', body]);
    expect(g.gateway.stats().ignoredClientFrames).toBe(8);
  });

  it('closes a client that sends an oversized frame with 1009, and keeps serving others', async () => {
    const g = await start({ wsMaxClientFrameBytes: 1024 });
    const big = await connect(g, `/ws?secret=${SECRET}`);
    const other = await connect(g, `/ws?secret=${SECRET}`);
    big.ws.send('x'.repeat(2048));
    expect((await big.closed).code).toBe(1009);
    const body = groupAtMessage();
    await g.publish(body);
    expect(await other.waitForFrames(1)).toEqual([body]);
  });
});
