import { once } from 'node:events';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EventLog } from '@hookway/bus';
import { groupAtMessage, idOf, until, waitingFor, WsCollector } from '@hookway/testkit';
import { relayFixture, SECRET, testStores, type RunningRelay } from './harness.ts';

const { start, connect, track } = relayFixture();
const pausedSocket = (c: WsCollector) => (c.ws as unknown as { _socket: Socket })._socket;
/** The server's side of the next WebSocket upgrade. */
const nextUpgradedSocket = (r: RunningRelay) =>
  new Promise<Socket>((resolve) => r.relay.server.once('upgrade', (_req, socket: Socket) => resolve(socket)));

/**
 * Opens a raw TCP connection, writes `request` and never sends FIN. Then it keeps writing a byte: a server that
 * only half-closed keeps accepting them, one that destroyed its socket answers with a reset. Resolves with the
 * response once the server has closed the connection; a server that never does fails the test by its timeout.
 */
async function responseBeforeServerCloses(port: number, request: string): Promise<string> {
  const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(request);
  const probe = setInterval(() => socket.writable && socket.write('x'), 50);
  await waitingFor('the server to close the connection', new Promise((r) => socket.once('close', r)));
  clearInterval(probe);
  return response;
}

/**
 * A client connected to the relay over a Unix socket (handed to its HTTP server as a connection), with the server's
 * side of it. The kernel buffers about 200 KB there, against megabytes over loopback TCP (tcp_wmem autotunes to
 * 4 MiB), so filling it takes a few thousand small frames instead of hundreds of thousands.
 */
async function connectOverUnixSocket(r: RunningRelay, path: string): Promise<{ client: WsCollector; server: Socket }> {
  const socketPath = join(tmpdir(), `hookway-${process.pid}-${Date.now().toString(36)}.sock`);
  let server: Socket | undefined;
  const listener = createServer((socket) => {
    server = socket;
    r.relay.server.emit('connection', socket);
  });
  listener.listen(socketPath);
  await once(listener, 'listening');
  onTestFinished(() => void listener.close());
  const client = new WsCollector(`ws+unix:${socketPath}:${path}`);
  track(client);
  await client.opened;
  return { client, server: server! };
}

describe('hostile or broken HTTP', () => {
  it('destroys the socket of a refused upgrade even if the client never closes its side', async () => {
    const r = await start();
    const port = Number(new URL(r.baseUrl).port);
    const response = await responseBeforeServerCloses(
      port,
      'GET /ws?secret=bad HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1.1 400/);
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
    // The client can see the close before the server does; the server logs the disconnect when it does.
    await until(() => r.relay.gateway.stats().connections === 0, 'the server to see the client go');
    const messages = r.logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages).toContain('client connected');
    expect(messages).toContain('client disconnected');
  });
});

describe('slow readers', () => {
  it('a client flooding heartbeats without reading is closed with 4100 instead of growing server memory', async () => {
    const cap = 16 * 1024;
    const r = await start({ wsMaxBufferedBytes: cap });
    const { client: c, server } = await connectOverUnixSocket(r, `/ws?secret=${SECRET}`);
    const socket = pausedSocket(c);
    socket.pause();
    /** Sends `n` heartbeats and resolves once the server has read, and so answered, every one of them. */
    const heartbeats = async (n: number) => {
      for (let i = 0; i < n; i++) c.ws.send('{"op":1,"d":null}');
      const written = socket.bytesWritten;
      while (server.bytesRead < written && !server.destroyed) await once(server, 'data');
      await new Promise(setImmediate);
    };
    // Until the kernel's buffers are full the acks leave the process…
    while (server.writableLength === 0 && !server.destroyed) await heartbeats(100);
    // …from then on each one ({"op":11}, 9 bytes and a header) stays queued: the cap is reached within cap / 9 acks.
    await heartbeats(Math.ceil(cap / 9) + 1);
    expect(r.relay.gateway.stats().slowConsumerCloses).toBe(1);
    socket.resume();
    expect((await c.closed).code).toBe(4100);
  });

  it('a replay of mixed large and small events is paced, not cut off with 4100', async () => {
    const r = await start({ wsMaxBufferedBytes: 64 * 1024 });
    const bodies = Array.from({ length: 160 }, (_, i) => groupAtMessage({ content: `${i}:${'x'.repeat(i % 2 === 0 ? 20_000 : 50_000)}` }));
    for (const body of bodies) await r.sender().dispatch(body);
    const upgraded = nextUpgradedSocket(r);
    const c = new WsCollector(r.wsUrl(`/ws?secret=${SECRET}`));
    track(c);
    c.ws.once('upgrade', (res) => res.socket.pause());
    await c.opened;
    const server = await upgraded;
    // The replay runs until the kernel's buffers are full (megabytes over loopback) and then has to wait for room.
    await until(
      () => server.writableLength > 0 || r.relay.gateway.stats().framesSent === bodies.length,
      'the replay to fill the socket buffers',
    );
    pausedSocket(c).resume();
    expect(await c.waitForFrames(bodies.length)).toEqual(bodies);
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
    await waitingFor('the resuming client to read the history', asked);
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
