import { afterAll, describe, expect, inject, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { RedisConnection } from '@hookway/redis/connection';
import { readyConnections, until } from '@hookway/testkit';
import { MemoryBotActivity, RedisBotActivity, ThrottledActivity, type BotActivityRecorder } from '../src/index.ts';
import { botActivityContract } from './bot-activity.contract.ts';

const connection = readyConnections(() => new RedisConnection({ url: inject('redisUrl') }), afterAll, 5000);

botActivityContract('MemoryBotActivity', async () => new MemoryBotActivity());
botActivityContract('RedisBotActivity', async () => new RedisBotActivity(await connection()));

describe('RedisBotActivity specifics', () => {
  it('is shared by every process on the same Redis: one records, another reads', async () => {
    const [ingress, gateway] = [new RedisBotActivity(await connection()), new RedisBotActivity(await connection())];
    const bot = AppSecret.of(`shared${Date.now().toString(36)}`);
    await ingress.recordValidation(bot, 123);
    await ingress.recordVerifiedEvent(bot, 'C2C_MESSAGE_CREATE', 456);
    expect(await gateway.standing(bot)).toEqual({
      validations: 1,
      lastValidationAtMs: 123,
      lastEventAtMs: 456,
      lastEventType: 'C2C_MESSAGE_CREATE',
    });
  });
});

/** A recorder that counts the writes that reach it. */
function countingStore() {
  const store = new MemoryBotActivity();
  const writes: { type: string | undefined; atMs: number }[] = [];
  const recorder: BotActivityRecorder = {
    recordValidation: (bot, atMs) => store.recordValidation(bot, atMs),
    recordVerifiedEvent: (bot, type, atMs) => {
      writes.push({ type, atMs });
      return store.recordVerifiedEvent(bot, type, atMs);
    },
  };
  return { store, writes, recorder };
}

describe('ThrottledActivity', () => {
  const bot = AppSecret.of('throttledBot1');

  it('writes the first event of a burst at once, holds back the rest, and writes the last one when the window ends', async () => {
    const { store, writes, recorder } = countingStore();
    const throttled = new ThrottledActivity(
      recorder,
      (err) => {
        throw err;
      },
      50,
    );
    for (let i = 1; i <= 100; i++) throttled.verifiedEvent(bot, i === 100 ? 'LAST' : 'MIDDLE', i);
    expect(writes).toEqual([{ type: 'MIDDLE', atMs: 1 }]);
    await until(() => writes.length === 2, 'the held-back last event of the window');
    expect(writes[1]).toEqual({ type: 'LAST', atMs: 100 });
    expect(await store.standing(bot)).toMatchObject({ lastEventAtMs: 100, lastEventType: 'LAST' });
    await throttled.close();
  });

  it('keeps windows per bot, passes validations straight through, and writes what it holds on close', async () => {
    const { store, writes, recorder } = countingStore();
    const throttled = new ThrottledActivity(
      recorder,
      (err) => {
        throw err;
      },
      60_000,
    );
    const other = AppSecret.of('throttledBot2');
    throttled.verifiedEvent(bot, 'A', 1);
    throttled.verifiedEvent(other, 'B', 2);
    throttled.verifiedEvent(bot, 'C', 3);
    throttled.validated(bot, 4);
    expect(writes).toHaveLength(2);
    await until(async () => (await store.standing(bot)).validations === 1, 'the validation written');
    await throttled.close();
    expect(await store.standing(bot)).toMatchObject({ lastEventAtMs: 3, lastEventType: 'C' });
  });

  it('writes at most validationsPerMinute op 13 records a minute (anyone can send op 13 with any secret)', async () => {
    const { store, recorder } = countingStore();
    const throttled = new ThrottledActivity(
      recorder,
      (err) => {
        throw err;
      },
      1000,
      3,
    );
    for (let i = 0; i < 10; i++) throttled.validated(AppSecret.of(`flooder${i}xx`), 60_000 + i);
    throttled.validated(bot, 120_000);
    await until(async () => (await store.standing(bot)).validations === 1, 'the next minute’s validation');
    const written = await Promise.all(Array.from({ length: 10 }, (_, i) => store.standing(AppSecret.of(`flooder${i}xx`))));
    expect(written.map((s) => s.validations)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    await throttled.close();
  });

  it('reports a failed write instead of throwing it at the webhook', async () => {
    const errors: unknown[] = [];
    const failing: BotActivityRecorder = {
      recordValidation: () => Promise.reject(new Error('down')),
      recordVerifiedEvent: () => Promise.reject(new Error('down')),
    };
    const throttled = new ThrottledActivity(failing, (err) => errors.push(err), 60_000);
    throttled.validated(bot, 1);
    throttled.verifiedEvent(bot, 'A', 2);
    await until(() => errors.length === 2, 'both failures reported');
    await throttled.close();
  });
});
