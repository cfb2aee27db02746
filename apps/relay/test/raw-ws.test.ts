import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EventLog } from '@hookway/bus';
import { AppSecret } from '@hookway/protocol';
import { groupAtMessage, idOf, upgradeStatus, WsCollector } from '@hookway/testkit';
import { OTHER_SECRET, relayFixture, SECRET, sleep, type RunningRelay } from './harness.ts';
import { memoryStores } from '../src/index.ts';
import { defaultConfig } from '@hookway/runtime';

const { start, connect } = relayFixture();
const postAll = async (r: RunningRelay, bodies: string[], secret = SECRET) => {
  for (const body of bodies) expect((await r.sender(secret).dispatch(body)).status).toBe(200);
};
const events = (n: number) => Array.from({ length: n }, () => groupAtMessage());
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;

describe('live delivery', () => {
  it('sends each event as one text frame holding exactly the platform’s bytes, in acceptance order', async () => {
    const r = await start();
    const client = await connect(r, `/ws?secret=${SECRET}`);
    const bodies = [
      groupAtMessage(),
      `{ "op" : 0, "id":"C2C_MESSAGE_CREATE:spaced1", "d" : {"content":"  有空格  ", "emoji":"😀"},"t":"C2C_MESSAGE_CREATE" }`,
      `{"t":"FRIEND_ADD","d":{"openid":"E4F4","timestamp":1699240365},"id":"FRIEND_ADD:6c1e","op":0}\n`,
      ...events(20),
    ];
    await postAll(r, bodies);
    expect(await client.waitForFrames(bodies.length)).toEqual(bodies);
  });

  it('keeps concurrent webhooks in one order for every client, each exactly once', async () => {
    const r = await start();
    const [a, b] = [await connect(r, `/ws?secret=${SECRET}`), await connect(r, `/ws/${SECRET}`)];
    const bodies = events(100);
    const results = await Promise.all(bodies.map((body) => r.sender().dispatch(body)));
    expect(results.every((res) => res.status === 200)).toBe(true);
    const seenA = await a.waitForFrames(100);
    const seenB = await b.waitForFrames(100);
    expect(seenB).toEqual(seenA);
    expect(new Set(seenA).size).toBe(100);
    expect([...seenA].sort()).toEqual([...bodies].sort());
    const history = await r.relay.stores.events.history(AppSecret.of(SECRET));
    expect(history.events.map((e) => e.body.toString())).toEqual(seenA);
  });

  it('isolates bots from each other', async () => {
    const r = await start();
    const mine = await connect(r, `/ws?secret=${SECRET}`);
    const theirs = await connect(r, `/ws?secret=${OTHER_SECRET}`);
    const [forMine, forTheirs] = [groupAtMessage(), groupAtMessage()];
    await postAll(r, [forMine]);
    await postAll(r, [forTheirs], OTHER_SECRET);
    expect(await mine.waitForFrames(1)).toEqual([forMine]);
    expect(await theirs.waitForFrames(1)).toEqual([forTheirs]);
    await sleep(50);
    expect([mine.frames.length, theirs.frames.length]).toEqual([1, 1]);
  });
});

describe('events that arrive while nobody is connected', () => {
  it('are kept and handed to the next client; a second client does not get them again', async () => {
    const r = await start();
    const offline = events(5);
    await postAll(r, offline);
    const first = await connect(r, `/ws?secret=${SECRET}`);
    expect(await first.waitForFrames(5)).toEqual(offline);
    const live = groupAtMessage();
    await postAll(r, [live]);
    await first.waitForFrames(6);
    first.close();
    await first.closed;
    const second = await connect(r, `/ws?secret=${SECRET}`);
    await sleep(100);
    expect(second.frames).toEqual([]);
  });
});

describe('resume with ?after=<id>', () => {
  it('replays everything after the id, then live events, with a status frame first', async () => {
    const r = await start();
    const first = await connect(r, `/ws?secret=${SECRET}`);
    const seen = events(3);
    await postAll(r, seen);
    await first.waitForFrames(3);
    first.close();
    const missed = events(4);
    await postAll(r, missed);

    const resumed = await connect(r, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(seen[2]!))}`);
    const frames = await resumed.waitForFrames(5);
    expect(parse(frames[0]!)).toEqual({ hookway: 'resume', recovered: true, after: idOf(seen[2]!), replayed: 4 });
    expect(frames.slice(1)).toEqual(missed);
    const live = groupAtMessage();
    await postAll(r, [live]);
    expect((await resumed.waitForFrames(6))[5]).toBe(live);
  });

  it('works on the path form /ws/<secret>?after=', async () => {
    const r = await start();
    const bodies = events(3);
    await postAll(r, bodies);
    const c = await connect(r, `/ws/${SECRET}?after=${encodeURIComponent(idOf(bodies[0]!))}`);
    expect((await c.waitForFrames(3)).slice(1)).toEqual(bodies.slice(1));
  });

  it('says recovered:false when the id is unknown, then sends everything it still holds', async () => {
    const r = await start();
    const bodies = events(2);
    await postAll(r, bodies);
    const c = await connect(r, `/ws?secret=${SECRET}&after=GROUP_AT_MESSAGE_CREATE:gone`);
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
    const r = await start({ historyMaxEvents: 3 });
    const bodies = events(6);
    await postAll(r, bodies);
    const c = await connect(r, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(bodies[0]!))}`);
    const frames = await c.waitForFrames(4);
    expect(parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: false, reason: 'cursor_not_found' });
    expect(frames.slice(1)).toEqual(bodies.slice(3));
  });

  it('has no gap and no duplicate when events keep arriving during the catch-up', async () => {
    // A real MemoryBus whose history reads take 30 ms, so live events certainly land mid-catch-up.
    const stores = memoryStores(
      defaultConfig({ historyMaxEvents: 10_000, historyMaxAgeSec: 600, historyMaxBytes: 1 << 26, dedupWindowSec: 600 }),
    );
    const inner = stores.events;
    const slowHistory: EventLog = Object.assign(Object.create(inner) as EventLog, {
      history: async (...args: Parameters<EventLog['history']>) => {
        const slice = await inner.history(...args);
        await sleep(30);
        return slice;
      },
    });
    const r = await start({}, { stores: { ...stores, events: slowHistory } });
    const before = events(10);
    await postAll(r, before);
    const during = events(60);
    const posting = (async () => {
      for (const body of during) {
        await r.sender().dispatch(body);
        await sleep(1);
      }
    })();
    const resumers: WsCollector[] = [];
    for (let i = 0; i < 5; i++) {
      resumers.push(await connect(r, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(before[i]!))}`));
      await sleep(10);
    }
    await posting;
    const replayedFromHistory: number[] = [];
    for (const [i, c] of resumers.entries()) {
      const expected = [...before.slice(i + 1), ...during];
      const frames = await c.waitForFrames(expected.length + 1);
      expect(parse(frames[0]!)).toMatchObject({ recovered: true });
      expect(frames.slice(1)).toEqual(expected);
      await sleep(20);
      expect(c.frames).toHaveLength(expected.length + 1);
      replayedFromHistory.push(parse(frames[0]!).replayed as number);
    }
    // Proof the race happened: the resumers' history reads predate the last live events they received.
    expect(replayedFromHistory.every((n, i) => n < before.length - (i + 1) + during.length)).toBe(true);
  });

  it('refuses an empty or oversized after with 400', async () => {
    const r = await start();
    expect(await upgradeStatus(r.wsUrl(`/ws?secret=${SECRET}&after=`))).toBe(400);
    expect(await upgradeStatus(r.wsUrl(`/ws?secret=${SECRET}&after=${'x'.repeat(600)}`))).toBe(400);
  });
});

describe('upgrade requests', () => {
  it('refuses bad secrets with 400 and unknown paths with 404', async () => {
    const r = await start();
    expect(await upgradeStatus(r.wsUrl('/ws'))).toBe(400);
    expect(await upgradeStatus(r.wsUrl('/ws?secret=abc'))).toBe(400);
    expect(await upgradeStatus(r.wsUrl('/ws/has%20space%20inside'))).toBe(400);
    expect(await upgradeStatus(r.wsUrl('/elsewhere'))).toBe(404);
    expect(await upgradeStatus(r.wsUrl(`/ws/${SECRET}/extra`))).toBe(404);
  });
});

describe('frames from clients', () => {
  it('answers a gateway-style heartbeat with {"op":11}', async () => {
    const r = await start();
    const c = await connect(r, `/ws?secret=${SECRET}`);
    c.ws.send('{"op":1,"d":null}');
    c.ws.send('{"op":1,"d":42}');
    c.ws.send('{"op":1}');
    expect(await c.waitForFrames(3)).toEqual(['{"op":11}', '{"op":11}', '{"op":11}']);
  });

  it('ignores garbage, binary and unknown frames without harm', async () => {
    const r = await start();
    const c = await connect(r, `/ws?secret=${SECRET}`);
    for (const junk of ['not json', '{"op":', '[]', 'null', '{"op":"1"}', '{"op":2,"d":{}}', '\u0000\uffff']) c.ws.send(junk);
    c.ws.send(Buffer.from([0xff, 0x00, 0x13]));
    const body = groupAtMessage();
    await postAll(r, [body]);
    expect(await c.waitForFrames(1)).toEqual([body]);
    expect(r.relay.gateway.stats().ignoredClientFrames).toBe(8);
  });

  it('closes a client that sends an oversized frame with 1009, and keeps serving others', async () => {
    const r = await start({ wsMaxClientFrameBytes: 1024 });
    const big = await connect(r, `/ws?secret=${SECRET}`);
    const other = await connect(r, `/ws?secret=${SECRET}`);
    big.ws.send('x'.repeat(2048));
    expect((await big.closed).code).toBe(1009);
    const body = groupAtMessage();
    await postAll(r, [body]);
    expect(await other.waitForFrames(1)).toEqual([body]);
  });
});

describe('dead and slow clients', () => {
  it('pings clients and terminates one that never answers', async () => {
    const r = await start({ wsPingIntervalMs: 1000 });
    const silent = await connect(r, `/ws?secret=${SECRET}`, { autoPong: false });
    const healthy = await connect(r, `/ws?secret=${SECRET}`);
    let pings = 0;
    silent.ws.on('ping', () => pings++);
    const { code } = await silent.closed;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(code).toBe(1006);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    expect(r.relay.gateway.stats().unresponsiveTerminated).toBeGreaterThanOrEqual(1);
  });

  it('keeps silent clients when WS_TERMINATE_UNRESPONSIVE is off', async () => {
    const r = await start({ wsPingIntervalMs: 1000, wsTerminateUnresponsive: false });
    const silent = await connect(r, `/ws?secret=${SECRET}`, { autoPong: false });
    let pings = 0;
    silent.ws.on('ping', () => pings++);
    await sleep(3500);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(silent.ws.readyState).toBe(WebSocket.OPEN);
    const body = groupAtMessage();
    await postAll(r, [body]);
    expect(await silent.waitForFrames(1)).toEqual([body]);
  });

  it('closes a client that stops reading with 4100; it resumes with after and misses nothing', async () => {
    const r = await start({ wsMaxBufferedBytes: 64 * 1024 });
    const slow = await connect(r, `/ws?secret=${SECRET}`);
    const socket = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    const bodies = Array.from({ length: 300 }, (_, i) => groupAtMessage({ content: `${i} ${'载'.repeat(20_000)}` }));
    for (const body of bodies) {
      await r.sender().dispatch(body);
      if (r.relay.gateway.stats().slowConsumerCloses > 0) break;
    }
    expect(r.relay.gateway.stats().slowConsumerCloses).toBe(1);
    const accepted = (await r.relay.stores.events.history(AppSecret.of(SECRET))).events.map((e) => e.body.toString());
    socket.resume();
    expect((await slow.closed).code).toBe(4100);
    const got = slow.frames;
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(accepted.length);
    expect(got).toEqual(accepted.slice(0, got.length));

    const lastSeen = idOf(got[got.length - 1]!);
    const resumed = await connect(r, `/ws?secret=${SECRET}&after=${encodeURIComponent(lastSeen)}`);
    const rest = accepted.slice(got.length);
    const frames = await resumed.waitForFrames(rest.length + 1, 15_000);
    expect(parse(frames[0]!)).toMatchObject({ recovered: true, replayed: rest.length });
    expect(frames.slice(1)).toEqual(rest);
  });
});
