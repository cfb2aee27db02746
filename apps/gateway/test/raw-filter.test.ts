import { describe, expect, it } from 'vitest';
import { c2cMessage, groupAtMessage, idOf, upgradeAnswer } from '@hookway/testkit';
import { addKey, gatewayFixture, SECRET, type RunningGateway } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const GROUP = 'GROUP_AT_MESSAGE_CREATE';
const C2C = 'C2C_MESSAGE_CREATE';
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;
const after = (body: string) => encodeURIComponent(idOf(body));
const publishAll = async (g: RunningGateway, bodies: string[]) => {
  for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
};
const guild = () =>
  JSON.stringify({ op: 0, id: `AT_MESSAGE_CREATE:${Math.random().toString(36).slice(2)}`, t: 'AT_MESSAGE_CREATE', d: { guild_id: '1' } });

describe('events= on /ws', () => {
  it('delivers only the chosen types live, in every URL and credential form, while other clients get everything', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys);
    const filtered = [
      await connect(g, `/ws?secret=${SECRET}&events=${GROUP},${C2C}`),
      await connect(g, `/ws/${SECRET}?events=${C2C.toLowerCase()},${GROUP}`),
      await connect(g, `/ws?events=${GROUP},${C2C}`, { headers: { authorization: `Bearer ${key}` } }),
      await connect(g, `/ws?key=${key}&events=${GROUP},${C2C}`),
    ];
    const everything = await connect(g, `/ws?secret=${SECRET}`);
    const bodies = [guild(), groupAtMessage(), guild(), c2cMessage(), guild()];
    await publishAll(g, bodies);
    for (const c of filtered) expect(await c.waitForFrames(2)).toEqual([bodies[1], bodies[3]]);
    expect(await everything.waitForFrames(5)).toEqual(bodies);
    // Nothing else came before the next event it may see.
    const marker = groupAtMessage();
    await publishAll(g, [guild(), marker]);
    for (const c of filtered) expect((await c.waitForFrames(3))[2]).toBe(marker);
  });

  it('filters the replay too, and counts only what it will send in the resume frame', async () => {
    const g = await start();
    const first = groupAtMessage();
    const missed = [c2cMessage(), groupAtMessage(), c2cMessage(), guild()];
    await publishAll(g, [first, ...missed]);
    const c = await connect(g, `/ws?secret=${SECRET}&events=${C2C}&after=${after(first)}`);
    const frames = await c.waitForFrames(3);
    expect(parse(frames[0]!)).toEqual({ hookway: 'resume', recovered: true, after: idOf(first), replayed: 2 });
    expect(frames.slice(1)).toEqual([missed[0], missed[2]]);
    const live = [groupAtMessage(), c2cMessage()];
    await publishAll(g, live);
    expect((await c.waitForFrames(4))[3]).toBe(live[1]);
  });

  it('resumes from an after that names an event the filter hides, with no gap in what it lets through', async () => {
    const g = await start();
    const seen = c2cMessage();
    const hidden = [groupAtMessage(), guild()];
    const rest = [groupAtMessage(), c2cMessage(), guild(), c2cMessage()];
    await publishAll(g, [seen, ...hidden, ...rest]);
    for (const cursor of [seen, ...hidden]) {
      const c = await connect(g, `/ws?secret=${SECRET}&events=${C2C}&after=${after(cursor)}`);
      const frames = await c.waitForFrames(3);
      expect(parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true, replayed: 2 });
      expect(frames.slice(1)).toEqual([rest[1], rest[3]]);
    }
  });

  it('refuses unknown types with 400, naming them and listing the valid ones, before any key lookup', async () => {
    const g = await start();
    const answer = await upgradeAnswer(g.url(`/ws?secret=${SECRET}&events=${GROUP},GROUP_MESAGE_CREATE`));
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: 'unknown_events', message: expect.stringContaining('GROUP_MESAGE_CREATE') });
    expect((answer.json as { message: string }).message).toContain(`GROUP_AND_C2C_EVENT: ${C2C}`);
    const empty = await upgradeAnswer(g.url(`/ws?secret=${SECRET}&events=`));
    expect(empty).toMatchObject({ status: 400, json: { error: 'invalid_events' } });
  });

  it('a key’s limit applies whatever the URL says: a narrower events= narrows it, one beyond it is refused with 403', async () => {
    const g = await start();
    const { key, name } = await addKey(g.stores.keys, { events: [C2C, GROUP] });
    const narrower = await connect(g, `/ws?key=${key}&events=${GROUP}`);
    const keyOnly = await connect(g, `/ws?key=${key}`);
    const beyond = await upgradeAnswer(g.url(`/ws?key=${key}&events=${C2C},AT_MESSAGE_CREATE`));
    expect(beyond.status).toBe(403);
    expect(beyond.json).toMatchObject({
      error: 'events_not_allowed',
      message: expect.stringMatching(new RegExp(`"${name}" receives only ${C2C}, ${GROUP}; events= also asks for AT_MESSAGE_CREATE`)),
    });
    const bodies = [c2cMessage(), guild(), groupAtMessage()];
    await publishAll(g, bodies);
    expect(await narrower.waitForFrames(1)).toEqual([bodies[2]]);
    expect(await keyOnly.waitForFrames(2)).toEqual([bodies[0], bodies[2]]);
    // A 403 for asking too much is no failed authentication.
    expect(g.gateway.stats()).toMatchObject({ clientKeyRefusals: 0 });
  });

  it('records as delivered only what reached a client: events a filter hid reach the next client without after', async () => {
    const g = await start();
    const filtered = await connect(g, `/ws?secret=${SECRET}&events=${C2C}`);
    const c2c = c2cMessage();
    const hidden = [groupAtMessage(), guild()];
    await publishAll(g, [c2c, ...hidden]);
    await filtered.waitForFrames(1);
    // A marker it may see proves it has passed the hidden ones.
    const marker = c2cMessage();
    await publishAll(g, [marker]);
    expect(await filtered.waitForFrames(2)).toEqual([c2c, marker]);
    filtered.close();
    await filtered.closed;
    // Without after, a client starts after the last event that reached a client (the marker): the hidden ones were
    // passed over once a later event was delivered — a client that must see every event resumes with after.
    const later = await connect(g, `/ws?secret=${SECRET}`);
    const next = groupAtMessage();
    await publishAll(g, [next]);
    expect(await later.waitForFrames(1)).toEqual([next]);

    // Hidden events that no delivered event follows do wait for the next client.
    const onlyC2c = await connect(g, `/ws?secret=${SECRET}&events=${C2C}`);
    later.close();
    await later.closed;
    const waiting = [groupAtMessage(), guild()];
    // (The in-memory log hands each event to the feed as it is published: the c2c client has passed them by now.)
    await publishAll(g, waiting);
    onlyC2c.close();
    await onlyC2c.closed;
    const everything = await connect(g, `/ws?secret=${SECRET}`);
    expect(await everything.waitForFrames(2)).toEqual(waiting);
  });
});
