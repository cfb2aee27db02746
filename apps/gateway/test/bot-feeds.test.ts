import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { MemoryBus, type Bus, type BusEvent } from '@hookway/bus';
import { BotFeeds } from '../src/bot-feeds.ts';
import type { FeedClient } from '../src/feed-client.ts';

const limits = { historyMaxEvents: 100, historyMaxAgeMs: 60_000, historyMaxBytes: 1 << 20, dedupWindowMs: 60_000 };
const silent = pino({ level: 'silent' });

class Recorder implements FeedClient {
  readonly got: number[] = [];
  deliver(event: BusEvent): boolean {
    this.got.push(event.seq);
    return true;
  }
}

/** A real MemoryBus whose subscribe resolves late, and which counts live subscriptions. */
function slowSubscribeBus(inner: MemoryBus, delayMs: number): Bus & { live: () => number } {
  let live = 0;
  return Object.assign(Object.create(inner) as Bus, {
    live: () => live,
    subscribe: async (...args: Parameters<Bus['subscribe']>) => {
      await new Promise((r) => setTimeout(r, delayMs));
      const sub = await inner.subscribe(...args);
      live++;
      return { close: async () => void (live--, await sub.close()) };
    },
  });
}

describe('BotFeeds', () => {
  it.each([0, 1, 2, 3, 5])(
    'a client joining %i microtasks after the last one left still receives live events',
    async (ticks) => {
      const bus = new MemoryBus(limits);
      const feeds = new BotFeeds(bus, silent);
      const first = new Recorder();
      await feeds.join('bot', first);
      void feeds.leave('bot', first);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      const second = new Recorder();
      await feeds.join('bot', second);
      await bus.publish('bot', { body: Buffer.from('x') });
      expect(second.got).toEqual([1]);
      expect(first.got).toEqual([]);
      expect(feeds.botCount).toBe(1);
      await feeds.close();
      await bus.close();
    },
  );

  it('shares one subscription per bot and drops it when the last client leaves, even mid-subscribe', async () => {
    const inner = new MemoryBus(limits);
    const bus = slowSubscribeBus(inner, 30);
    const feeds = new BotFeeds(bus, silent);
    const [a, b] = [new Recorder(), new Recorder()];
    const joining = Promise.all([feeds.join('bot', a), feeds.join('bot', b)]);
    void feeds.leave('bot', a);
    void feeds.leave('bot', b);
    await joining;
    await new Promise((r) => setTimeout(r, 10));
    expect(bus.live()).toBe(0);
    expect(feeds.botCount).toBe(0);
    await inner.publish('bot', { body: Buffer.from('x') });
    expect([...a.got, ...b.got]).toEqual([]);
    await inner.close();
  });

  it('keeps delivering to other clients when one throws', async () => {
    const bus = new MemoryBus(limits);
    const feeds = new BotFeeds(bus, silent);
    const good = new Recorder();
    await feeds.join('bot', {
      deliver: () => {
        throw new Error('broken client');
      },
    });
    await feeds.join('bot', good);
    await bus.publish('bot', { body: Buffer.from('x') });
    expect(good.got).toEqual([1]);
    await feeds.close();
    await bus.close();
  });
});
