import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AppSecret } from '@hookway/protocol';
import { groupAtMessage, idOf, until } from '@hookway/testkit';
import { gatewayFixture, SECRET } from './gateway-fixture.ts';

const { start, connect } = gatewayFixture();
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;

describe('dead and slow clients', () => {
  it('pings clients and terminates one that never answers', async () => {
    const g = await start({ wsPingIntervalMs: 500 });
    const silent = await connect(g, `/ws?secret=${SECRET}`, { autoPong: false });
    const healthy = await connect(g, `/ws?secret=${SECRET}`);
    let pings = 0;
    silent.ws.on('ping', () => pings++);
    const { code } = await silent.closed;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(code).toBe(1006);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    expect(g.gateway.stats().unresponsiveTerminated).toBeGreaterThanOrEqual(1);
  });

  it('keeps silent clients when WS_TERMINATE_UNRESPONSIVE is off', async () => {
    const g = await start({ wsPingIntervalMs: 300, wsTerminateUnresponsive: false });
    const silent = await connect(g, `/ws?secret=${SECRET}`, { autoPong: false });
    let pings = 0;
    silent.ws.on('ping', () => pings++);
    // Two unanswered pings would have ended it at the next tick; a third ping shows it is still there.
    await until(() => pings >= 3 || silent.ws.readyState !== WebSocket.OPEN, 'three pings');
    expect(silent.ws.readyState).toBe(WebSocket.OPEN);
    const body = groupAtMessage();
    await g.publish(body);
    expect(await silent.waitForFrames(1)).toEqual([body]);
    expect(g.gateway.stats().unresponsiveTerminated).toBe(0);
  });

  it("answers a client's pings with pongs, however many it sends over the connection's life", async () => {
    const g = await start();
    const client = await connect(g, `/ws?secret=${SECRET}`);
    // ws terminates a client with 60 answers still being written: each answer's completion must be counted back,
    // or the 61st ping would end the connection.
    const answer = () =>
      new Promise<string>((resolve) => {
        const onPong = (data: Buffer) => {
          client.ws.off('close', onClose);
          resolve(data.toString());
        };
        const onClose = () => {
          client.ws.off('pong', onPong);
          resolve('closed');
        };
        client.ws.once('pong', onPong).once('close', onClose);
      });
    for (let i = 0; i < 100; i++) {
      const answered = answer();
      client.ws.ping(`beat ${i}`);
      expect(await answered).toBe(`beat ${i}`);
    }
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a client that stops reading with 4100; it resumes with after and misses nothing', async () => {
    const g = await start({ wsMaxBufferedBytes: 64 * 1024 });
    const slow = await connect(g, `/ws?secret=${SECRET}`);
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const bodies = Array.from({ length: 300 }, (_, i) => groupAtMessage({ content: `${i} ${'载'.repeat(20_000)}` }));
    for (const body of bodies) {
      await g.publish(body);
      // Let the fan-out (setImmediate turns, queued before this one) write the event before looking.
      await new Promise((r) => setImmediate(r));
      if (g.gateway.stats().slowConsumerCloses > 0) break;
    }
    expect(g.gateway.stats().slowConsumerCloses).toBe(1);
    const accepted = (await g.stores.events.history(AppSecret.of(SECRET))).events.map((e) => e.body.toString());
    socket.resume();
    expect((await slow.closed).code).toBe(4100);
    const got = slow.frames;
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(accepted.length);
    expect(got).toEqual(accepted.slice(0, got.length));

    const lastSeen = idOf(got[got.length - 1]!);
    const resumed = await connect(g, `/ws?secret=${SECRET}&after=${encodeURIComponent(lastSeen)}`);
    const rest = accepted.slice(got.length);
    const frames = await resumed.waitForFrames(rest.length + 1);
    expect(parse(frames[0]!)).toMatchObject({ recovered: true, replayed: rest.length });
    expect(frames.slice(1)).toEqual(rest);
  });
});
