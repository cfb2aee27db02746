import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { c2cMessage, groupAtMessage, idOf, until } from '@hookway/testkit';
import { accessToken, BOT, FakeQqApi, gatewayFixture, memoryStores, SECRET, sessionIdOf, type RunningGateway } from './gateway-fixture.ts';

const { start, connect, open, identified } = gatewayFixture();
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;

/** Events published within one turn of the event loop: the fan-out (setImmediate turns) has written none of them yet. */
async function burst(g: RunningGateway, count: number, bytes: number): Promise<string[]> {
  const bodies = Array.from({ length: count }, (_, i) => groupAtMessage({ content: `${i} ${'x'.repeat(bytes)}` }));
  for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
  return bodies;
}

describe('the fan-out backlog bound (FANOUT_BACKLOG_MAX_BYTES)', () => {
  it('cuts raw clients it leaves behind with 4100; they resume from the history with no gap and no repeat', async () => {
    const g = await start({ fanoutBacklogMaxBytes: 16 * 1024 });
    const clients = [await connect(g, `/ws?secret=${SECRET}`), await connect(g, `/ws/${SECRET}`)];
    const first = [groupAtMessage(), groupAtMessage()];
    for (const body of first) await g.publish(body);
    for (const c of clients) expect(await c.waitForFrames(2)).toEqual(first);

    const bodies = await burst(g, 40, 1000); // ~40 KiB queued before the first turn: past the bound
    for (const c of clients) expect((await c.closed).code).toBe(4100);
    expect(g.gateway.stats()).toMatchObject({ fanOutBacklogCloses: 2, slowConsumerCloses: 2, fanOutBacklogBytes: 0 });
    expect(g.logs.some((line) => line.includes('FANOUT_BACKLOG_MAX_BYTES'))).toBe(true);

    const accepted = (await g.stores.events.history(AppSecret.of(SECRET))).events.map((e) => e.body.toString());
    expect(accepted).toEqual([...first, ...bodies]);
    const resumed = [];
    for (const c of clients) {
      const got = c.frames;
      expect(got).toEqual(accepted.slice(0, got.length));
      const again = await connect(g, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(got.at(-1)!))}`);
      const rest = accepted.slice(got.length);
      const frames = await again.waitForFrames(rest.length + 1);
      expect(parse(frames[0]!)).toMatchObject({ recovered: true, replayed: rest.length });
      expect(frames.slice(1)).toEqual(rest);
      resumed.push({ client: again, expected: rest.length + 1 });
    }
    // Live again: the next event reaches each resumed client, once, right after its replay.
    const live = groupAtMessage({ content: 'live' });
    await g.publish(live);
    for (const { client, expected } of resumed) expect((await client.waitForFrames(expected + 1)).slice(expected)).toEqual([live]);
  });

  it('keeps clients when the backlog stays within the bound, however many events arrive in one turn', async () => {
    const g = await start({ fanoutBacklogMaxBytes: 64 * 1024 });
    const c = await connect(g, `/ws?secret=${SECRET}`);
    const bodies = await burst(g, 40, 1000);
    expect(await c.waitForFrames(40)).toEqual(bodies);
    expect(g.gateway.stats()).toMatchObject({ fanOutBacklogCloses: 0, slowConsumerCloses: 0, framesSent: 40 });
  });

  it('cuts a gateway session it leaves behind with 4009; it resumes on another replica with no gap and no repeat', async () => {
    const stores = memoryStores();
    const api = new FakeQqApi([BOT]);
    const one = await start({ fanoutBacklogMaxBytes: 16 * 1024 }, { stores, api });
    const two = await start({}, { stores, api });
    const session = await identified(one);
    const sessionId = sessionIdOf(session);
    await one.publish(groupAtMessage());
    const [dispatch] = (await session.next(3)).slice(2);
    const bodies = await burst(one, 40, 1000);
    expect((await session.closed).code).toBe(4009);
    expect(one.gateway.stats().fanOutBacklogCloses).toBe(1);
    const seen = session.parsed().filter((f) => f.op === 0 && f.t !== 'READY');
    expect(seen.map((f) => f.id)).toEqual([dispatch!.id, ...bodies.slice(0, seen.length - 1).map(idOf)]);

    const resumed = await open(two);
    resumed.send({ op: 6, d: { token: accessToken(two), session_id: sessionId, seq: seen.at(-1)!.s } });
    const rest = bodies.slice(seen.length - 1);
    const frames = (await resumed.next(rest.length + 2)).slice(1);
    expect(frames.slice(0, rest.length).map((f) => f.id)).toEqual(rest.map(idOf));
    expect(frames.at(-1)).toMatchObject({ t: 'RESUMED' });
  });
});

describe('the per-client buffer cap (WS_MAX_BUFFERED_BYTES) on a burst', () => {
  it('cuts an unfiltered raw client that stopped reading with 4100 as soon as a burst takes it past the cap, as a filtered one', async () => {
    // A backlog bound far above the cap: a burst that fits the backlog is handed over in one pass.
    const g = await start({ wsMaxBufferedBytes: 16 * 1024, fanoutBacklogMaxBytes: 64 * 1024 * 1024 });
    const stalled = await rawSocket(g, `/ws?secret=${SECRET}`); // unfiltered: takes raw runs
    const filtered = await rawSocket(g, `/ws?secret=${SECRET}&events=GROUP_AT_MESSAGE_CREATE`); // one frame at a time
    stalled.pause();
    filtered.pause();
    // ~12 MiB in one turn: more than loopback's socket buffers take, 750 times the cap.
    const bodies = Array.from({ length: 200 }, () => eventOfSize(60_000));
    for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
    await until(() => g.gateway.stats().framesSent > 0 && g.gateway.stats().fanOutBacklogBytes === 0, 'the burst fanned out');
    // Each client is over the cap once its second frame is queued; neither may be left holding megabytes uncut.
    expect(g.gateway.stats().slowConsumerCloses).toBe(2);
    stalled.destroy();
    filtered.destroy();
  });
});

describe('frames built once', () => {
  it('writes each raw event as one unmasked text frame: header and the platform’s bytes, verbatim, at every length', async () => {
    const g = await start();
    const socket = await rawSocket(g, `/ws?secret=${SECRET}`);
    // 7-bit, 16-bit and 64-bit payload lengths, each side of the boundaries.
    const bodies = [100, 125, 126, 65535, 65536, 70000].map(eventOfSize);
    for (const body of bodies) await g.publish(body);
    const expected = Buffer.concat(bodies.map((body) => Buffer.concat([header(Buffer.byteLength(body)), Buffer.from(body)])));
    expect(await readBytes(socket, expected.length)).toEqual(expected);
    socket.destroy();
  });

  it('hands a burst to unfiltered raw clients as one run of the same frames, and to filtered ones only their events', async () => {
    const g = await start();
    const sockets = [await rawSocket(g, `/ws?secret=${SECRET}`), await rawSocket(g, `/ws/${SECRET}`)];
    const filtered = await connect(g, `/ws?secret=${SECRET}&events=C2C_MESSAGE_CREATE`);
    // Published within one turn: the fan-out's first pass is due all of them at once.
    const bodies = [eventOfSize(100), c2cMessage(), eventOfSize(126), eventOfSize(70000), c2cMessage({ content: 'last' })];
    for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
    const expected = Buffer.concat(bodies.map((body) => Buffer.concat([header(Buffer.byteLength(body)), Buffer.from(body)])));
    for (const socket of sockets) expect(await readBytes(socket, expected.length)).toEqual(expected);
    expect(await filtered.waitForFrames(2)).toEqual([bodies[1], bodies[4]]);
    expect(g.gateway.stats()).toMatchObject({ framesSent: 2 * bodies.length + 2 });
    for (const socket of sockets) socket.destroy();
  });

  it('gives every gateway session of a bot the same dispatch bytes, numbered by the bot’s stream (s = seq + 1)', async () => {
    const g = await start();
    await g.publish(groupAtMessage());
    const early = await identified(g);
    expect((await early.next(3))[2]).toMatchObject({ s: 2 });
    const late = await identified(g);
    const event = groupAtMessage({ content: '共享 "帧" \\u0000' });
    await g.publish(event);
    const [a] = (await early.next(4)).slice(3);
    const [b] = (await late.next(3)).slice(2);
    expect(a).toEqual(b);
    const d = JSON.stringify(JSON.parse(event).d);
    const raw = (c: typeof early) => c.frames.at(-1)!;
    expect(raw(early)).toBe(`{"op":0,"s":3,"t":"GROUP_AT_MESSAGE_CREATE","id":${JSON.stringify(idOf(event))},"d":${d}}`);
    expect(raw(late)).toBe(raw(early));
  });

  it('resumes a session that saw nothing after READY from where it began, not from the start of the history', async () => {
    const stores = memoryStores();
    const api = new FakeQqApi([BOT]);
    const one = await start({}, { stores, api });
    const reader = await connect(one, `/ws?secret=${SECRET}`);
    const delivered = [groupAtMessage(), groupAtMessage()];
    for (const body of delivered) await one.publish(body);
    await reader.waitForFrames(2);
    const session = await identified(one);
    const sessionId = sessionIdOf(session);
    session.ws.terminate();
    const missed = groupAtMessage({ content: 'missed' });
    await one.publish(missed);
    const resumed = await open(one);
    resumed.send({ op: 6, d: { token: accessToken(one), session_id: sessionId, seq: 1 } }); // READY's s
    const frames = await resumed.next(3);
    expect(frames[1]).toMatchObject({ s: 4, id: idOf(missed) });
    expect(frames[2]).toMatchObject({ t: 'RESUMED' });
  });

  it('resumes a session stored with its own base (before the numbering was shared) in its own numbering', async () => {
    const g = await start();
    const bodies = [groupAtMessage(), groupAtMessage(), groupAtMessage(), groupAtMessage()];
    for (const body of bodies) await g.publish(body);
    const { epoch } = await g.stores.events.head(AppSecret.of(SECRET));
    // As an older replica stored it: started after event 2, so event 3 was its s 2 and event 4 its s 3.
    const record = { secret: SECRET, epoch, base: 2, intents: (1 << 25) | (1 << 30), shard: [0, 1] };
    await g.stores.sessions.save('old-session', JSON.stringify(record), 60_000);
    const resumed = await open(g);
    resumed.send({ op: 6, d: { token: accessToken(g), session_id: 'old-session', seq: 2 } });
    const frames = await resumed.next(3);
    expect(frames[1]).toMatchObject({ s: 3, id: idOf(bodies[3]!) });
    expect(frames[2]).toMatchObject({ t: 'RESUMED', s: 3 });
    const live = groupAtMessage();
    await g.publish(live);
    expect((await resumed.next(4))[3]).toMatchObject({ s: 4, id: idOf(live) });
  });
});

let padded = 0;
/** An event of exactly `size` bytes. */
function eventOfSize(size: number): string {
  const event = { op: 0, id: `GROUP_AT_MESSAGE_CREATE:pad${++padded}`, d: { content: '' }, t: 'GROUP_AT_MESSAGE_CREATE' };
  event.d.content = 'p'.repeat(size - Buffer.byteLength(JSON.stringify(event)));
  return JSON.stringify(event);
}

/** RFC 6455 §5.2, written out here independently of the server's code. */
function header(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const h = Buffer.alloc(10);
  h[0] = 0x81;
  h[1] = 127;
  h.writeUInt32BE(length, 6);
  return h;
}

/** A WebSocket handshake by hand, so the test sees the bytes on the wire (no WebSocket library in between). */
async function rawSocket(g: RunningGateway, path: string): Promise<Socket> {
  const { port } = new URL(g.url(path));
  const socket = tcpConnect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const head = await readUntil(socket, '\r\n\r\n');
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

const buffered = new WeakMap<Socket, Buffer>();

async function readUntil(socket: Socket, marker: string): Promise<Buffer> {
  let data = buffered.get(socket) ?? Buffer.alloc(0);
  while (data.indexOf(marker) < 0) data = Buffer.concat([data, (await once(socket, 'data'))[0] as Buffer]);
  const end = data.indexOf(marker) + marker.length;
  buffered.set(socket, data.subarray(end));
  return data.subarray(0, end);
}

async function readBytes(socket: Socket, count: number): Promise<Buffer> {
  let data = buffered.get(socket) ?? Buffer.alloc(0);
  while (data.length < count) data = Buffer.concat([data, (await once(socket, 'data'))[0] as Buffer]);
  buffered.set(socket, data.subarray(count));
  return data.subarray(0, count);
}
