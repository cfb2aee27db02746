import { describe, expect, it } from 'vitest';
import { historyLimits, MemoryEventLog, type EventLog } from '@hookway/bus';
import { AppSecret } from '@hookway/protocol';
import { defaultConfig } from '@hookway/runtime';
import { groupAtMessage, idOf, type WsCollector } from '@hookway/testkit';
import { gatewayFixture, memoryStores, SECRET, type RunningGateway } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const publishAll = async (g: RunningGateway, bodies: string[]) => {
  for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
};
const events = (n: number) => Array.from({ length: n }, () => groupAtMessage());
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;
const after = (body: string) => encodeURIComponent(idOf(body));

describe('resume with ?after=<id>', () => {
  it('replays everything after the id, then live events, with a status frame first', async () => {
    const g = await start();
    const first = await connect(g, `/ws?secret=${SECRET}`);
    const seen = events(3);
    await publishAll(g, seen);
    await first.waitForFrames(3);
    first.close();
    const missed = events(4);
    await publishAll(g, missed);

    const resumed = await connect(g, `/ws?secret=${SECRET}&after=${after(seen[2]!)}`);
    const frames = await resumed.waitForFrames(5);
    expect(parse(frames[0]!)).toEqual({ hookway: 'resume', recovered: true, after: idOf(seen[2]!), replayed: 4 });
    expect(frames.slice(1)).toEqual(missed);
    const live = groupAtMessage();
    await publishAll(g, [live]);
    expect((await resumed.waitForFrames(6))[5]).toBe(live);
  });

  it('works on the path form /ws/<secret>?after=', async () => {
    const g = await start();
    const bodies = events(3);
    await publishAll(g, bodies);
    const c = await connect(g, `/ws/${SECRET}?after=${after(bodies[0]!)}`);
    expect((await c.waitForFrames(3)).slice(1)).toEqual(bodies.slice(1));
  });

  it('says recovered:false when the id is unknown, then sends everything it still holds', async () => {
    const g = await start();
    const bodies = events(2);
    await publishAll(g, bodies);
    const c = await connect(g, `/ws?secret=${SECRET}&after=GROUP_AT_MESSAGE_CREATE:gone`);
    const frames = await c.waitForFrames(3);
    expect(parse(frames[0]!)).toEqual({
      hookway: 'resume',
      recovered: false,
      after: 'GROUP_AT_MESSAGE_CREATE:gone',
      reason: 'cursor_not_found',
      replayed: 2,
    });
    expect(frames.slice(1)).toEqual(bodies);
  });

  it('says recovered:false when the id has been trimmed from the bounded history', async () => {
    const g = await start({ historyMaxEvents: 3 });
    const bodies = events(6);
    await publishAll(g, bodies);
    const c = await connect(g, `/ws?secret=${SECRET}&after=${after(bodies[0]!)}`);
    const frames = await c.waitForFrames(4);
    expect(parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: false, reason: 'cursor_not_found' });
    expect(frames.slice(1)).toEqual(bodies.slice(3));
  });

  it('has no gap and no duplicate when events keep arriving during the catch-up', async () => {
    // Every history read is surrounded by live events: two published just before it (so they are in the slice
    // *and* in the client's live buffer) and two just after it (only in the live buffer).
    const inner = new MemoryEventLog(historyLimits(defaultConfig()));
    const bot = AppSecret.of(SECRET);
    const around = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const body = groupAtMessage({ content: `during catch-up ${i}` });
        await inner.publish(bot, { eventId: idOf(body), body: Buffer.from(body) });
      }
    };
    const racingHistory: EventLog = {
      publish: (...args) => inner.publish(...args),
      subscribe: (...args) => inner.subscribe(...args),
      publishCheck: (...args) => inner.publishCheck(...args),
      subscribeCheck: (...args) => inner.subscribeCheck(...args),
      head: (...args) => inner.head(...args),
      locate: (...args) => inner.locate(...args),
      markDelivered: (...args) => inner.markDelivered(...args),
      deliveredPosition: (...args) => inner.deliveredPosition(...args),
      isReady: () => inner.isReady(),
      close: () => inner.close(),
      history: async (...args) => {
        await around(2);
        const slice = await inner.history(...args);
        await around(2);
        return slice;
      },
    };
    const stores = { ...memoryStores(), events: racingHistory };
    const g = await start({}, { stores });
    const before = events(10);
    await publishAll(g, before);
    const resumers: WsCollector[] = [];
    for (let i = 0; i < 5; i++) resumers.push(await connect(g, `/ws?secret=${SECRET}&after=${after(before[i]!)}`));
    for (const c of resumers) await c.waitForFrames(1);
    const marker = groupAtMessage({ content: 'marker' });
    await publishAll(g, [marker]);
    const all = (await inner.history(bot)).events.map((e) => e.body.toString());
    expect(all.at(-1)).toBe(marker);
    for (const [i, c] of resumers.entries()) {
      const expected = all.slice(i + 1);
      // Anything sent twice would push the marker further back; anything missing would pull it forward.
      const frames = await c.waitForFrames(expected.length + 1);
      expect(parse(frames[0]!)).toMatchObject({ recovered: true });
      expect(frames.slice(1)).toEqual(expected);
      // Proof the race happened: the two events after the history read (and the marker) reached the client live.
      expect(parse(frames[0]!).replayed).toBeLessThanOrEqual(expected.length - 3);
    }
    await g.close();
    for (const store of Object.values(stores)) await store.close();
  });
});
