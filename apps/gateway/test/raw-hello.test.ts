import { describe, expect, it } from 'vitest';
import { MemoryBotActivity, type BotActivity } from '@hookway/bots';
import { AppSecret } from '@hookway/protocol';
import { c2cMessage, groupAtMessage, idOf, until } from '@hookway/testkit';
import { addKey, BOT, gatewayFixture, OTHER_SECRET, SECRET } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const C2C = 'C2C_MESSAGE_CREATE';
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;
const NEVER = {
  seen: false,
  validations: 0,
  lastValidationAt: null,
  lastEventAt: null,
  lastEventType: null,
  hint: expect.stringContaining('never answered an op 13 nor accepted a verified event for this secret'),
};

describe('hello=1 on /ws', () => {
  it('first says what was seen of the bot: its appid, op 13s and the last verified event', async () => {
    const activity = new MemoryBotActivity();
    const g = await start({}, { activity });
    await activity.recordValidation(AppSecret.of(SECRET), Date.parse('2026-01-02T03:04:05Z'));
    await activity.recordVerifiedEvent(AppSecret.of(SECRET), C2C, Date.parse('2026-01-02T03:05:00Z'));
    const c = await connect(g, `/ws?secret=${SECRET}&hello=1`);
    const body = groupAtMessage();
    await g.publish(body);
    const [hello, event] = await c.waitForFrames(2);
    expect(parse(hello!)).toEqual({
      hookway: 'hello',
      bot: {
        appid: BOT.appid,
        seen: true,
        validations: 1,
        lastValidationAt: '2026-01-02T03:04:05.000Z',
        lastEventAt: '2026-01-02T03:05:00.000Z',
        lastEventType: C2C,
      },
      events: null,
      resume: null,
    });
    expect(event).toBe(body);
  });

  it('tells a mistyped secret from a quiet bot: never seen, no appid, and a hint', async () => {
    const g = await start({}, { activity: new MemoryBotActivity() });
    const c = await connect(g, `/ws?secret=${OTHER_SECRET}&hello=1`);
    expect(parse((await c.waitForFrames(1))[0]!)).toEqual({ hookway: 'hello', bot: { appid: null, ...NEVER }, events: null, resume: null });
  });

  it('names the filter (the key’s limit, or events=) and carries the resume report instead of a separate resume frame', async () => {
    const g = await start({}, { activity: new MemoryBotActivity() });
    const { key } = await addKey(g.stores.keys, { events: [C2C, 'GROUP_AT_MESSAGE_CREATE'] });
    const first = c2cMessage();
    const missed = [groupAtMessage(), c2cMessage()];
    for (const body of [first, ...missed]) await g.publish(body);
    const byKey = await connect(g, `/ws?key=${key}&hello=1&after=${encodeURIComponent(idOf(first))}`);
    const narrowed = await connect(g, `/ws?key=${key}&hello=1&events=${C2C}&after=${encodeURIComponent(idOf(first))}`);
    const lost = await connect(g, `/ws?secret=${SECRET}&hello=1&after=C2C_MESSAGE_CREATE:gone`);
    const [keyHello, ...keyEvents] = await byKey.waitForFrames(3);
    expect(parse(keyHello!)).toMatchObject({
      bot: { appid: BOT.appid, ...NEVER },
      events: [C2C, 'GROUP_AT_MESSAGE_CREATE'],
      resume: { recovered: true, after: idOf(first), replayed: 2 },
    });
    expect(keyEvents).toEqual(missed);
    const [narrowHello, narrowEvent] = await narrowed.waitForFrames(2);
    expect(parse(narrowHello!)).toMatchObject({ events: [C2C], resume: { recovered: true, replayed: 1 } });
    expect(narrowEvent).toBe(missed[1]);
    const [lostHello, ...all] = await lost.waitForFrames(4);
    expect(parse(lostHello!)).toMatchObject({
      resume: { recovered: false, after: 'C2C_MESSAGE_CREATE:gone', reason: 'cursor_not_found', replayed: 3 },
    });
    expect(all).toEqual([first, ...missed]);
  });

  it('clients that opt into nothing get only the platform’s payloads, exactly as before', async () => {
    const g = await start({}, { activity: new MemoryBotActivity() });
    const plain = await connect(g, `/ws?secret=${SECRET}`);
    const helloOff = await connect(g, `/ws?secret=${SECRET}&hello=0&events=${C2C},GROUP_AT_MESSAGE_CREATE`);
    const live = [groupAtMessage(), c2cMessage()];
    for (const body of live) await g.publish(body);
    expect(await plain.waitForFrames(2)).toEqual(live);
    expect(await helloOff.waitForFrames(2)).toEqual(live);
    for (const frame of [...plain.frames, ...helloOff.frames]) expect(frame).not.toContain('hookway');
  });

  it('still says hello, with a hint, when the activity record cannot be read', async () => {
    const broken: Pick<BotActivity, 'standing'> = { standing: () => Promise.reject(new Error('redis down')) };
    const g = await start({}, { activity: broken });
    const c = await connect(g, `/ws?secret=${SECRET}&hello=1`);
    expect(parse((await c.waitForFrames(1))[0]!)).toMatchObject({
      bot: { appid: BOT.appid, seen: false, hint: expect.stringContaining('cannot be read right now') },
    });
    expect(g.logs.some((l) => l.includes('bot activity could not be read for hello'))).toBe(true);
  });

  it('is the first frame even when the client speaks at once and the bot facts are slow to read', async () => {
    const activity = new MemoryBotActivity();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow: Pick<BotActivity, 'standing'> = {
      standing: async (bot) => {
        await released;
        return activity.standing(bot);
      },
    };
    const g = await start({}, { activity: slow });
    const c = await connect(g, `/ws?secret=${SECRET}&hello=1`);
    c.ws.send('{"op":1,"d":null}');
    c.ws.send('{"op":1,"d":null}');
    c.ws.send('{"hookway":"call","id":"r1","method":"GET","path":"/not-an-api-path"}');
    // The gateway has read all three before the facts arrive: ignored frames would be counted, answered ones held.
    await until(() => g.gateway.stats().rawCallErrors === 1, 'the call to be refused');
    release();
    const frames = (await c.waitForFrames(3)).map(parse);
    expect(frames.map((f) => f.hookway ?? `op ${String(f.op)}`)).toEqual(['hello', 'op 11', 'result']);
    expect(frames[2]).toMatchObject({ id: 'r1', error: 'path_not_allowed' });
  });
});
