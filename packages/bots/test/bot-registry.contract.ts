import { afterEach, describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import type { BotRegistry } from '../src/index.ts';

let counter = 0;
/** Unique per test so implementations with shared storage (Redis) never see another test's data. */
const freshAppid = () => String(100_000_000 + (Date.now() % 1_000_000) * 100 + (++counter % 100));

/** The behaviour every BotRegistry implementation must have. */
export function botRegistryContract(name: string, openRegistry: () => Promise<BotRegistry>): void {
  describe(`BotRegistry contract: ${name}`, () => {
    const open: BotRegistry[] = [];
    const registry = async () => {
      const r = await openRegistry();
      open.push(r);
      return r;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((r) => r.close()));
    });

    it('remembers which secret belongs to which appid, the latest one winning', async () => {
      const r = await registry();
      const [a, b] = [freshAppid(), freshAppid()];
      expect((await r.all()).has(a)).toBe(false);
      await r.remember(a, AppSecret.of('secretOne1'));
      await r.remember(b, AppSecret.of('secretBee2'));
      await r.remember(a, AppSecret.of('secretTwo2'));
      const all = await r.all();
      expect(all.get(a)?.reveal()).toBe('secretTwo2');
      expect(all.get(b)?.reveal()).toBe('secretBee2');
    });

    it('hands out a snapshot: later changes do not alter a map already returned', async () => {
      const r = await registry();
      const a = freshAppid();
      const before = await r.all();
      await r.remember(a, AppSecret.of('secretOne1'));
      expect(before.has(a)).toBe(false);
      expect((await r.all()).has(a)).toBe(true);
    });
  });
}
