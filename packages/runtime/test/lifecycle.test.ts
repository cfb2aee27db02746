import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Lifecycle } from '../src/index.ts';

const silent = pino({ level: 'silent' });

describe('Lifecycle', () => {
  it('closes resources in reverse start order, even when one fails', async () => {
    const order: string[] = [];
    const life = new Lifecycle(silent);
    life.register('bus', { close: () => void order.push('bus') });
    life.register('broken', {
      close: () => {
        order.push('broken');
        throw new Error('nope');
      },
    });
    life.register('server', { close: async () => void order.push('server') });
    expect(await life.shutdown(1000)).toBe(true);
    expect(order).toEqual(['server', 'broken', 'bus']);
  });

  it('gives up at the deadline', async () => {
    const life = new Lifecycle(silent);
    life.register('stuck', { close: () => new Promise<void>(() => {}) });
    const started = Date.now();
    expect(await life.shutdown(100)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('runs only once however often it is asked', async () => {
    let closes = 0;
    const life = new Lifecycle(silent);
    life.register('x', { close: () => void closes++ });
    await Promise.all([life.shutdown(1000), life.shutdown(1000)]);
    expect(closes).toBe(1);
    expect(life.isShuttingDown).toBe(true);
  });
});
