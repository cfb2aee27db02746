import { request } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { signDispatch } from '@hookway/protocol';
import { groupAtMessage, until } from '@hookway/testkit';
import { relayFixture, SECRET, type RunningRelay } from './harness.ts';

const { start, connect } = relayFixture();

describe('acknowledge first (embedded relay)', () => {
  it('answers a webhook before its fan-out is done: the acknowledgement never waits behind socket writes', async () => {
    // One frame per event-loop turn: writing to 60 clients takes 60 turns, and the answer gets out after the first.
    const r = await start({ fanoutFramesPerTurn: 1 });
    const readers = await Promise.all(Array.from({ length: 60 }, () => connect(r, `/ws?secret=${SECRET}`)));
    const stalled = await connect(r, `/ws?secret=${SECRET}`);
    // Every client live (caught up) before the measured event, so every frame of it goes through the fan-out.
    const warmUp = groupAtMessage();
    expect((await r.sender().dispatch(warmUp)).status).toBe(200);
    for (const c of [...readers, stalled]) expect(await c.waitForFrames(1)).toEqual([warmUp]);
    (stalled.ws as unknown as { _socket: Socket })._socket.pause(); // and one that never reads again
    await until(() => r.relay.gateway.stats().framesSent === 61, 'the warm-up’s fan-out to end');

    const before = r.relay.gateway.stats().framesSent;
    const body = groupAtMessage();
    let writtenAtAnswer: number | undefined;
    const status = await post(r, body, () => (writtenAtAnswer = r.relay.gateway.stats().framesSent - before));
    expect(status).toBe(200);
    // Frames are counted when an event's fan-out ends: none had ended when the answer arrived.
    expect(writtenAtAnswer).toBe(0);
    for (const c of readers) expect(await c.waitForFrames(2)).toEqual([warmUp, body]);
    await until(() => r.relay.gateway.stats().framesSent - before === 61, 'the event written to all 61 clients');
  });
});

/** A signed webhook over node:http; `onAnswer` runs as the answer's head arrives (fetch takes more turns to say so). */
function post(r: RunningRelay, body: string, onAnswer: () => void): Promise<number> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const bytes = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${r.baseUrl}/webhook?secret=${SECRET}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature-timestamp': timestamp,
          'x-signature-ed25519': signDispatch(SECRET, timestamp, bytes),
        },
      },
      (res) => {
        onAnswer();
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}
