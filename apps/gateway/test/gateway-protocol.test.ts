import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { defaultConfig } from '@hookway/runtime';
import { groupAtMessage, idOf, until } from '@hookway/testkit';
import { BOT, gatewayFixture, guildEvent, accessToken } from './gateway-fixture.ts';

const { start, open, identified } = gatewayFixture();
const rawD = (body: string) => JSON.stringify((JSON.parse(body) as { d: unknown }).d);

describe('gateway protocol on /websocket', () => {
  it('sends Hello first, takes an Identify sent before Hello was read, and answers READY as the very next frame', async () => {
    const g = await start();
    const c = await open(g);
    c.identify(accessToken(g), 1 << 25, [0, 1]);
    const [hello, ready] = await c.next(2);
    expect(hello).toEqual({ op: 10, d: { heartbeat_interval: 41250 } });
    expect(ready).toMatchObject({
      op: 0,
      s: 1,
      t: 'READY',
      d: { version: 1, user: { id: BOT.userId, username: BOT.username, bot: true }, shard: [0, 1] },
    });
    expect((ready!.d as { session_id: string }).session_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('dispatches every event with an integer s ≥ 2, its top-level id, and the platform’s d byte for byte', async () => {
    const g = await start();
    const c = await identified(g);
    const bodies = [groupAtMessage(), groupAtMessage({ content: '{"nested":"quo\\"te"} 你好' }), guildEvent('18700000000001')];
    for (const body of bodies) await g.publish(body);
    const frames = (await c.next(5)).slice(2);
    expect(frames.map((f) => f.s)).toEqual([2, 3, 4]);
    for (const [i, frame] of frames.entries()) {
      const sent = JSON.parse(bodies[i]!) as { id: string; t: string };
      expect(frame).toMatchObject({ op: 0, t: sent.t, id: sent.id });
      expect(c.frames[i + 2]).toContain(`"d":${rawD(bodies[i]!)}}`);
    }
  });

  it('answers every heartbeat form with op 11 at once, before and after Identify', async () => {
    const g = await start();
    const c = await open(g);
    c.send({ op: 1, d: null });
    await c.next(2);
    c.identify(accessToken(g));
    await c.next(3);
    for (const beat of [{ op: 1, d: 5 }, { op: 1 }, { op: 1, s: 3 }]) c.send(beat);
    expect((await c.next(6)).slice(3)).toEqual([{ op: 11 }, { op: 11 }, { op: 11 }]);
    expect(c.parsed()[1]).toEqual({ op: 11 });
  });

  it('on shutdown sends op 7, then closes with 4009 so the client resumes elsewhere', async () => {
    const g = await start();
    const c = await identified(g);
    const closing = g.close();
    expect((await c.next(3))[2]).toEqual({ op: 7 });
    expect((await c.closed).code).toBe(4009);
    await closing;
  });

  it('tolerates a socket that never identifies (by default for ever; dead peers are found by pings)', async () => {
    expect(defaultConfig().gatewayIdentifyTimeoutMs).toBe(0);
    const g = await start({ wsPingIntervalMs: 300 });
    const idle = await open(g);
    let pings = 0;
    idle.ws.on('ping', () => pings++);
    await until(() => pings >= 4 || idle.ws.readyState !== idle.ws.OPEN, 'four pings');
    idle.send({ op: 1, d: null });
    expect(await idle.next(2)).toEqual([{ op: 10, d: { heartbeat_interval: 41250 } }, { op: 11 }]);
  });

  it('closes a socket that has not identified within GATEWAY_IDENTIFY_TIMEOUT_MS, when one is set', async () => {
    const g = await start({ gatewayIdentifyTimeoutMs: 200 });
    const idle = await open(g);
    expect((await idle.closed).code).toBe(4003);
  });
});

describe('handshake edges', () => {
  it('answers a heartbeat sent during the handshake only after READY', async () => {
    const g = await start();
    const c = await open(g);
    c.identify(accessToken(g));
    c.send({ op: 1, d: null });
    const frames = await c.next(3);
    expect(frames.map((f) => f.op)).toEqual([10, 0, 11]);
    expect(frames[1]!.t).toBe('READY');
  });

  it('counts replayed events as delivered: a second fresh session does not get them again', async () => {
    const g = await start();
    const unseen = [groupAtMessage(), groupAtMessage()];
    for (const body of unseen) await g.publish(body);
    const first = await identified(g);
    expect((await first.next(4)).slice(2).map((f) => f.id)).toEqual(unseen.map(idOf));
    const bot = AppSecret.of(BOT.secret);
    await until(async () => (await g.stores.events.deliveredPosition(bot))?.seq === 2, 'the replay to count as delivered');
    const second = await identified(g);
    const marker = groupAtMessage({ content: 'marker' });
    await g.publish(marker);
    // The replayed events, had the second session been handed them, would come before the marker. Its `s` is the bot's
    // numbering shared by every session (bus seq + 1), so one dispatch frame serves them all.
    expect((await second.next(3))[2]).toMatchObject({ s: 4, id: idOf(marker) });
  });

  it('a fresh session that identifies while another is there gets only what comes next, however recent', async () => {
    const g = await start();
    const first = await identified(g);
    const recent = [groupAtMessage(), groupAtMessage(), groupAtMessage()];
    await g.publish(recent[0]!);
    await first.next(3);
    // The delivered mark reaches the event log at most every 100 ms after the first event's: the log's may still say 1.
    for (const body of recent.slice(1)) await g.publish(body);
    expect((await first.next(5)).slice(3).map((f) => f.id)).toEqual(recent.slice(1).map(idOf));
    const second = await identified(g);
    const marker = groupAtMessage({ content: 'marker' });
    await g.publish(marker);
    expect((await second.next(3))[2]).toMatchObject({ s: 5, id: idOf(marker) });
  });
});
