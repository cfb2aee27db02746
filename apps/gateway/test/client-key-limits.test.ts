import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FileClientKeyStore } from '@hookway/keys';
import { c2cMessage, groupAtMessage, idOf, until } from '@hookway/testkit';
import { addKey, counting, gatewayFixture, memoryStores, SECRET } from './gateway-fixture.ts';

const { start, connect, open, identified } = gatewayFixture();
const C2C = 'C2C_MESSAGE_CREATE';
const GROUP_AND_C2C = 1 << 25;
const parse = (frame: string) => JSON.parse(frame) as Record<string, unknown>;

describe('a key limited to certain event types', () => {
  it('gives its raw clients only those, replayed and live, while other clients get everything', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys, { events: [C2C] });
    const missed = [groupAtMessage(), c2cMessage(), groupAtMessage(), c2cMessage()];
    for (const body of missed) await g.publish(body);
    const limited = await connect(g, `/ws?key=${key}`);
    const everything = await connect(g, `/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(missed[0]!))}`);
    const live = [c2cMessage(), groupAtMessage(), groupAtMessage(), c2cMessage()];
    for (const body of live) await g.publish(body);
    expect(await limited.waitForFrames(4)).toEqual([missed[1], missed[3], live[0], live[3]]);
    expect((await everything.waitForFrames(8)).slice(1)).toEqual([...missed.slice(1), ...live]);
    // Nothing else follows: a marker it may see comes next.
    const marker = c2cMessage();
    await g.publish(marker);
    expect((await limited.waitForFrames(5))[4]).toBe(marker);
  });

  it('resumes with an after that names an event the key does not show, with no gap in what it may see', async () => {
    const g = await start();
    const { key } = await addKey(g.stores.keys, { events: [C2C] });
    const seen = c2cMessage();
    const hidden = groupAtMessage();
    const rest = [c2cMessage(), groupAtMessage(), c2cMessage()];
    for (const body of [seen, hidden, ...rest]) await g.publish(body);
    const fromSeen = await connect(g, `/ws?key=${key}&after=${encodeURIComponent(idOf(seen))}`);
    const fromHidden = await connect(g, `/ws?key=${key}&after=${encodeURIComponent(idOf(hidden))}`);
    for (const c of [fromSeen, fromHidden]) {
      const frames = await c.waitForFrames(3);
      expect(parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true, replayed: 2 });
      expect(frames.slice(1)).toEqual([rest[0], rest[2]]);
    }
  });

  it('intersects with the Identify intents in gateway mode: a key cannot widen them, intents can narrow it', async () => {
    const g = await start({ gatewayIntents: 'all' });
    const { key } = await addKey(g.stores.keys, { events: [C2C] });
    const c = await identified(g, key, GROUP_AND_C2C);
    for (const body of [groupAtMessage(), c2cMessage(), groupAtMessage()]) await g.publish(body);
    const marker = c2cMessage();
    await g.publish(marker);
    const frames = await c.next(4);
    expect(frames.slice(2).map((f) => f.t)).toEqual([C2C, C2C]);
    expect(frames[3]!.id).toBe(idOf(marker));

    const strict = await start();
    const { key: both } = await addKey(strict.stores.keys, { events: [C2C, 'AT_MESSAGE_CREATE'] });
    const narrowed = await identified(strict, both, GROUP_AND_C2C);
    const guild = JSON.stringify({ op: 0, id: 'AT_MESSAGE_CREATE:x1', t: 'AT_MESSAGE_CREATE', d: { guild_id: '1', content: 'x' } });
    const direct = c2cMessage();
    await strict.publish(guild);
    await strict.publish(direct);
    expect((await narrowed.next(3))[2]).toMatchObject({ t: C2C, id: idOf(direct) });
  });
});

describe('gateway-mode clients with a client key', () => {
  it('identify with the key as the token, bare or after QQBot / Bearer, or connect with ?key= and identify with anything', async () => {
    const g = await start();
    const { key, name } = await addKey(g.stores.keys);
    const clients = [await identified(g, key), await identified(g, `QQBot ${key}`), await identified(g, `Bearer ${key}`)];
    const viaUrl = await open(g, `/websocket?key=${key}`);
    viaUrl.identify('QQBot whatever');
    expect((await viaUrl.next(2))[1]).toMatchObject({ t: 'READY' });
    const body = groupAtMessage();
    await g.publish(body);
    for (const c of [...clients, viaUrl]) expect((await c.next(3))[2]).toMatchObject({ t: 'GROUP_AT_MESSAGE_CREATE', id: idOf(body) });
    const ready = g.logs.filter((l) => l.includes('gateway session ready'));
    expect(ready).toHaveLength(4);
    for (const line of ready) expect(line).toMatch(new RegExp(`"key":"${name}".*"mode":"key"`));
    expect(g.logs.join('')).not.toContain(key.slice(4));
  });

  it('refuses a wrong, revoked or expired key in Identify with op 9 and 4004, and counts it as a failure', async () => {
    const g = await start({ authFailuresPerMinute: 3 });
    const { key: revoked, name } = await addKey(g.stores.keys);
    await g.stores.keys.revoke(name);
    const { key: expired } = await addKey(g.stores.keys, { expiresAtMs: Date.now() - 1 });
    for (const token of ['hwk_not-even-shaped', revoked, `QQBot ${expired}`]) {
      const c = await open(g);
      c.identify(token);
      expect((await c.next(2))[1]).toMatchObject({ op: 9 });
      expect((await c.closed).code).toBe(4004);
    }
    expect(g.logs.filter((l) => l.includes('client key refused')).map((l) => (JSON.parse(l) as { error: string }).error)).toEqual([
      'invalid_key',
      'invalid_key',
      'expired_key',
    ]);
    const throttled = await open(g).catch((err: { statusCode?: number }) => err.statusCode);
    expect(throttled).toBe(429);
  });

  it('refuses /websocket?key= with a wrong key at the upgrade, with 401', async () => {
    const g = await start();
    const answer = await open(g, `/websocket?key=hwk_${'x'.repeat(43)}`).catch((err: { statusCode?: number }) => err.statusCode);
    expect(answer).toBe(401);
  });

  it('forged access tokens count as failures too', async () => {
    const g = await start({ authFailuresPerMinute: 2 });
    for (const token of ['QQBot forged-1', 'QQBot forged-2']) {
      const c = await open(g);
      c.identify(token);
      expect((await c.closed).code).toBe(4004);
    }
    expect(await open(g).catch((err: { statusCode?: number }) => err.statusCode)).toBe(429);
  });

  it('refuses Identify without a lookup on sockets opened before their address reached the limit', async () => {
    const stores = memoryStores();
    const keys = counting(stores.keys);
    const g = await start({ authFailuresPerMinute: 2 }, { stores: { ...stores, keys } });
    const { key } = await addKey(keys);
    const [a, b, late] = [await open(g), await open(g), await open(g)];
    for (const c of [a, b]) {
      c.identify('QQBot forged-token');
      expect((await c.closed).code).toBe(4004);
    }
    const lookups = keys.lookups;
    late.identify(key);
    expect((await late.next(2))[1]).toMatchObject({ op: 9 });
    expect((await late.closed).code).toBe(4004);
    expect(keys.lookups).toBe(lookups);
  });

  it('a session stays up while the keys cannot be read', async () => {
    const stores = memoryStores();
    const g = await start({}, { stores });
    const { key } = await addKey(stores.keys);
    const c = await identified(g, key);
    writeFileSync((stores.keys as FileClientKeyStore).path, '{not json');
    await until(() => g.logs.some((l) => l.includes('could not be re-checked')), 'a re-check that fails');
    const body = groupAtMessage();
    await g.publish(body);
    expect((await c.next(3))[2]).toMatchObject({ id: idOf(body) });
  });
});
