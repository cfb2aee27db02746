import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { until } from '@hookway/testkit';
import { SLAB_MAX_BYTES, SLAB_MIN_BYTES } from '../src/body-slabs.ts';
import { MemoryEventLog } from '../src/index.ts';
import { eventLogContract } from './event-log.contract.ts';

eventLogContract('MemoryEventLog', async (limits) => new MemoryEventLog(limits));

const [botA, botB, botC, botD, botE] = ['botAAA', 'botBBB', 'botCCC', 'botDDD', 'botEEE'].map((s) => AppSecret.of(s)) as [
  AppSecret,
  AppSecret,
  AppSecret,
  AppSecret,
  AppSecret,
];

describe('MemoryEventLog specifics', () => {
  const limits = { historyMaxEvents: 100, historyMaxAgeMs: 1000, historyMaxBytes: 1 << 20, dedupWindowMs: 1000 };

  it('forgets idle bots after their history expires, and a returning bot starts a new epoch', async () => {
    let now = 1_000_000;
    const bus = new MemoryEventLog({ ...limits, nowMs: () => now, sweepIntervalMs: 10 });
    await bus.publish(botA, { eventId: 'x', body: Buffer.from('x') });
    const firstEpoch = (await bus.history(botA)).head.epoch;
    expect(bus.botCount()).toBe(1);
    now += 5000;
    await until(() => bus.botCount() === 0, 'a sweep to forget botA');
    await bus.publish(botA, { eventId: 'y', body: Buffer.from('y') });
    const second = await bus.history(botA);
    expect(second.head.epoch).not.toBe(firstEpoch);
    expect(second.head.seq).toBe(1);
    await bus.close();
  });

  it('keeps a subscribed bot even when its history is empty', async () => {
    let now = 1_000_000;
    const bus = new MemoryEventLog({ ...limits, nowMs: () => now, sweepIntervalMs: 10 });
    await bus.subscribe(botB, () => {});
    await bus.publish(AppSecret.of('idleBot'), { body: Buffer.from('x') }); // forgotten by the same sweep: proof that one ran
    now += 5000;
    await until(() => bus.botCount() < 2, 'a sweep to forget the idle bot');
    expect(bus.botCount()).toBe(1);
    await bus.close();
  });

  it('stays correct across many trims at the count cap (amortised compaction)', async () => {
    const bus = new MemoryEventLog({ ...limits, historyMaxEvents: 100, historyMaxAgeMs: 600_000, dedupWindowMs: 600_000 });
    for (let i = 1; i <= 3000; i++) await bus.publish(botD, { eventId: `e${i}`, body: Buffer.from(String(i)) });
    const slice = await bus.history(botD);
    expect(slice.events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 2901 + i));
    expect(slice.events.map((e) => e.body.toString())).toEqual(Array.from({ length: 100 }, (_, i) => String(2901 + i)));
    expect(await bus.locate(botD, 'e2900')).toBeUndefined();
    expect((await bus.locate(botD, 'e2950'))?.seq).toBe(2950);
    const after = await bus.history(botD, { epoch: slice.head.epoch, seq: 2990 });
    expect(after).toMatchObject({ complete: true });
    expect(after.events.map((e) => e.seq)).toEqual([2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000]);
    await bus.close();
  });

  it('bounds the remembered ids per bot, forgetting the oldest first', async () => {
    const bus = new MemoryEventLog({ ...limits, dedupWindowMs: 600_000, dedupMaxIds: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await bus.publish(botE, { eventId: id, body: Buffer.from(id) });
    expect((await bus.publish(botE, { eventId: 'd', body: Buffer.from('d') })).status).toBe('duplicate');
    expect((await bus.publish(botE, { eventId: 'a', body: Buffer.from('a') })).status).toBe('accepted');
    await bus.close();
  });

  it('keeps small bodies side by side in shared slabs, byte for byte, and a large one in its own buffer', async () => {
    const bus = new MemoryEventLog(limits);
    const bodies = [Buffer.from('{"op":0,"id":"one"}'), Buffer.from('{"op":0,"id":"two"}'), Buffer.alloc(SLAB_MAX_BYTES, 0x61)];
    for (const body of bodies) await bus.publish(botC, { body });
    const sent = bodies.map((b) => Buffer.from(b));
    bodies[0]!.fill(0x20); // the publisher's buffer is its own again once published
    const [one, two, large] = (await bus.history(botC)).events.map((e) => e.body) as [Buffer, Buffer, Buffer];
    expect([one, two, large]).toEqual(sent);
    expect(two.buffer).toBe(one.buffer); // no ArrayBuffer (object, backing store) per small body
    expect(one.buffer.byteLength).toBe(SLAB_MIN_BYTES);
    expect(large.buffer).not.toBe(one.buffer);
    await bus.close();
  });

  it('isolates a throwing subscriber from the others', async () => {
    const bus = new MemoryEventLog(limits);
    const got: number[] = [];
    await bus.subscribe(botC, () => {
      throw new Error('boom');
    });
    await bus.subscribe(botC, (e) => got.push(e.seq));
    await expect(bus.publish(botC, { body: Buffer.from('1') })).resolves.toMatchObject({ status: 'accepted' });
    expect(got).toEqual([1]);
    await bus.close();
  });
});
