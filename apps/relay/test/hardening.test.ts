import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventLog } from '@hookway/bus';
import { groupAtMessage, idOf, WsCollector } from '@hookway/testkit';
import { relayFixture, SECRET, sleep, testStores } from './harness.ts';

const { start, connect, track } = relayFixture();
const pausedSocket = (c: WsCollector) => (c.ws as unknown as { _socket: Socket })._socket;

/**
 * Opens a raw TCP connection, writes `request` and never sends FIN. Then it keeps writing a byte: a server that
 * only half-closed keeps accepting them, one that destroyed its socket answers with a reset.
 */
async function serverClosesSilentPeer(port: number, request: string): Promise<{ response: string; closedByServer: boolean }> {
  const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(request);
  const probe = setInterval(() => socket.writable && socket.write('x'), 50);
  const closedByServer = await Promise.race([
    new Promise<boolean>((r) => socket.once('close', () => r(true))),
    sleep(1500).then(() => false),
  ]);
  clearInterval(probe);
  socket.destroy();
  return { response, closedByServer };
}

describe('hostile or broken HTTP', () => {
  it('destroys the socket of a refused upgrade even if the client never closes its side', async () => {
    const r = await start();
    const port = Number(new URL(r.baseUrl).port);
    const { response, closedByServer } = await serverClosesSilentPeer(
      port,
      'GET /ws?secret=bad HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1.1 400/);
    expect(closedByServer).toBe(true);
  });
});

describe('logs stay intact and secret-free', () => {
  it('unauthenticated secrets (WebSocket connects, op 13) cannot rewrite log text', async () => {
    const r = await start();
    const c = await connect(r, '/ws?secret=connected');
    await r.sender('client').validate('t', '1');
    await r.sender('disconnected').validate('t', '1');
    c.close();
    await c.closed;
    await sleep(20);
    const messages = r.logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('client connected');
    expect(messages).toContain('client disconnected');
  });
});

describe('slow readers', () => {
  it('a client flooding heartbeats without reading is closed with 4100 instead of growing server memory', async () => {
    const r = await start({ wsMaxBufferedBytes: 16 * 1024 });
    const c = await connect(r, `/ws?secret=${SECRET}`);
    const socket = pausedSocket(c);
    socket.pause();
    const burst = Array.from({ length: 2000 }, () => '{"op":1,"d":null}');
    for (let i = 0; i < 200 && r.relay.gateway.stats().slowConsumerCloses === 0; i++) {
      for (const frame of burst) c.ws.send(frame);
      await sleep(5);
    }
    expect(r.relay.gateway.stats().slowConsumerCloses).toBe(1);
    socket.resume();
    expect((await c.closed).code).toBe(4100);
  });

  it('a replay of mixed large and small events is paced, not cut off with 4100', async () => {
    const r = await start({ wsMaxBufferedBytes: 64 * 1024 });
    const bodies = Array.from({ length: 160 }, (_, i) => groupAtMessage({ content: `${i}:${'x'.repeat(i % 2 === 0 ? 20_000 : 50_000)}` }));
    for (const body of bodies) await r.sender().dispatch(body);
    const c = new WsCollector(r.wsUrl(`/ws?secret=${SECRET}`));
    track(c);
    c.ws.once('upgrade', (res) => res.socket.pause());
    await c.opened;
    await sleep(300);
    pausedSocket(c).resume();
    expect(await c.waitForFrames(bodies.length, 15_000)).toEqual(bodies);
    expect(r.relay.gateway.stats().slowConsumerCloses).toBe(0);
  });
});

describe('catch-up merge', () => {
  it('sends an event that is both in the history read and in the live buffer exactly once', async () => {
    // History reads wait until the test has published more events, so those are in the slice *and* in `pending`.
    const stores = testStores();
    const inner = stores.events;
    let historyAsked = () => {};
    const asked = new Promise<void>((resolve) => (historyAsked = resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const lateHistory: EventLog = Object.assign(Object.create(inner) as EventLog, {
      history: async (...args: Parameters<EventLog['history']>) => {
        historyAsked();
        await released;
        return inner.history(...args);
      },
    });
    const r = await start({}, { stores: { ...stores, events: lateHistory } });
    const first = groupAtMessage();
    await r.sender().dispatch(first);
    const resuming = connect(r, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(first))}`);
    await asked;
    const during = [groupAtMessage(), groupAtMessage()];
    for (const body of during) await r.sender().dispatch(body);
    release();
    const c = await resuming;
    // A later event marks the end: a duplicate of `during` would arrive before it.
    const marker = groupAtMessage();
    await c.waitForFrames(3);
    await r.sender().dispatch(marker);
    const frames = await c.waitForFrames(4);
    expect(JSON.parse(frames[0]!)).toMatchObject({ recovered: true, replayed: 2 });
    expect(frames.slice(1)).toEqual([...during, marker]);
    expect(c.frames).toHaveLength(4);
    await inner.close();
  });
});
