import { afterEach, describe, expect, it } from 'vitest';
import { until } from '@hookway/testkit';
import type { SessionStore } from '../src/official/session-store.ts';

let counter = 0;
const freshId = () => `session-${process.pid}-${Date.now().toString(36)}-${++counter}`;

/** The behaviour every SessionStore implementation must have. */
export function sessionStoreContract(name: string, openStore: () => Promise<SessionStore>): void {
  describe(`SessionStore contract: ${name}`, () => {
    const open: SessionStore[] = [];
    const store = async () => {
      const s = await openStore();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('keeps a session for its lifetime, a later save replacing it', async () => {
      const s = await store();
      const id = freshId();
      expect(await s.load(id)).toBeUndefined();
      await s.save(id, '{"bot":"x","base":3}', 60_000);
      expect(await s.load(id)).toBe('{"bot":"x","base":3}');
      await s.save(id, '{"bot":"x","base":4}', 60_000);
      expect(await s.load(id)).toBe('{"bot":"x","base":4}');
    });

    it('forgets a session once its time has run out, and only that one', async () => {
      const s = await store();
      const [short, long] = [freshId(), freshId()];
      await s.save(short, 'short', 100);
      await s.save(long, 'long', 60_000);
      // A TTL, which no event announces.
      await until(async () => (await s.load(short)) === undefined, 'the short session to expire');
      expect(await s.load(long)).toBe('long');
    });
  });
}
