import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { groupAtMessage, until } from '@hookway/testkit';
import { gatewayFixture, OTHER_SECRET, SECRET, type RunningGateway } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const publishAll = async (g: RunningGateway, bodies: string[], secret = SECRET) => {
  for (const body of bodies) expect((await g.publish(body, secret)).status).toBe('accepted');
};
const events = (n: number) => Array.from({ length: n }, () => groupAtMessage());

describe('live delivery', () => {
  it('sends each event as one text frame holding exactly the platform’s bytes, in acceptance order', async () => {
    const g = await start();
    const client = await connect(g, `/ws?secret=${SECRET}`);
    const bodies = [
      groupAtMessage(),
      `{ "op" : 0, "id":"C2C_MESSAGE_CREATE:spaced1", "d" : {"content":"  有空格  ", "emoji":"😀"},"t":"C2C_MESSAGE_CREATE" }`,
      `{"t":"FRIEND_ADD","d":{"openid":"E4F4","timestamp":1699240365},"id":"FRIEND_ADD:6c1e","op":0}\n`,
      ...events(20),
    ];
    await publishAll(g, bodies);
    expect(await client.waitForFrames(bodies.length)).toEqual(bodies);
  });

  it('keeps concurrently published events in one order for every client, each exactly once', async () => {
    const g = await start();
    const [a, b] = [await connect(g, `/ws?secret=${SECRET}`), await connect(g, `/ws/${SECRET}`)];
    const bodies = events(100);
    const results = await Promise.all(bodies.map((body) => g.publish(body)));
    expect(results.every((res) => res.status === 'accepted')).toBe(true);
    const seenA = await a.waitForFrames(100);
    const seenB = await b.waitForFrames(100);
    expect(seenB).toEqual(seenA);
    expect(new Set(seenA).size).toBe(100);
    expect([...seenA].sort()).toEqual([...bodies].sort());
    const history = await g.stores.events.history(AppSecret.of(SECRET));
    expect(history.events.map((e) => e.body.toString())).toEqual(seenA);
  });

  it('isolates bots from each other', async () => {
    const g = await start();
    const mine = await connect(g, `/ws?secret=${SECRET}`);
    const theirs = await connect(g, `/ws?secret=${OTHER_SECRET}`);
    const [forMine, forTheirs, mineAfter, theirsAfter] = events(4);
    await publishAll(g, [forMine!]);
    await publishAll(g, [forTheirs!], OTHER_SECRET);
    // Each bot's next event is the marker: anything of the other bot's would have come before it.
    await publishAll(g, [mineAfter!]);
    await publishAll(g, [theirsAfter!], OTHER_SECRET);
    expect(await mine.waitForFrames(2)).toEqual([forMine, mineAfter]);
    expect(await theirs.waitForFrames(2)).toEqual([forTheirs, theirsAfter]);
  });
});

describe('events that arrive while nobody is connected', () => {
  it('are kept and handed to the next client; a second client does not get them again', async () => {
    const g = await start();
    const bot = AppSecret.of(SECRET);
    const offline = events(5);
    await publishAll(g, offline);
    const first = await connect(g, `/ws?secret=${SECRET}`);
    expect(await first.waitForFrames(5)).toEqual(offline);
    const live = groupAtMessage();
    await publishAll(g, [live]);
    await first.waitForFrames(6);
    await until(async () => (await g.stores.events.deliveredPosition(bot))?.seq === 6, 'the delivered position to reach 6');
    first.close();
    await first.closed;
    const second = await connect(g, `/ws?secret=${SECRET}`);
    const marker = groupAtMessage({ content: 'marker' });
    await publishAll(g, [marker]);
    // Had the delivered events been handed out again, they would come before the marker.
    expect(await second.waitForFrames(1)).toEqual([marker]);
  });

  it('a client without after that connects while another is still there gets only what comes next, however recent', async () => {
    const g = await start();
    const first = await connect(g, `/ws?secret=${SECRET}`);
    const recent = events(5);
    await publishAll(g, recent.slice(0, 1));
    await first.waitForFrames(1);
    await publishAll(g, recent.slice(1));
    expect(await first.waitForFrames(5)).toEqual(recent);
    // No waiting for the delivered mark to reach the event log: after the first event's it is written at most every
    // 100 ms, so the log's may still say 1.
    const second = await connect(g, `/ws?secret=${SECRET}`);
    const marker = groupAtMessage({ content: 'marker' });
    await publishAll(g, [marker]);
    expect(await second.waitForFrames(1)).toEqual([marker]);
  });
});
