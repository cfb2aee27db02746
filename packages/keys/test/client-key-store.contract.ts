import { afterEach, describe, expect, it } from 'vitest';
import { newClientKey, type ClientKeyRecord, type ClientKeyStore } from '../src/index.ts';

/** Empty storage for one test, and a way to open stores on it (as a running gateway and the CLI each open one). */
export interface ClientKeyStorage {
  open(): ClientKeyStore;
}

let counter = 0;
export function record(overrides: Partial<ClientKeyRecord> = {}): ClientKeyRecord & { key: string } {
  const { key, hash } = newClientKey();
  return { key, name: `key-${++counter}`, appid: '102000001', hash, createdAtMs: 1_700_000_000_000 + counter, ...overrides };
}
const stored = ({ key: _key, ...r }: ClientKeyRecord & { key: string }): ClientKeyRecord => r;

/** The behaviour every ClientKeyStore implementation must have. */
export function clientKeyStoreContract(name: string, emptyStorage: () => Promise<ClientKeyStorage>): void {
  describe(`ClientKeyStore contract: ${name}`, () => {
    const open: ClientKeyStore[] = [];
    const storage = async () => {
      const s = await emptyStorage();
      return {
        open: () => {
          const store = s.open();
          open.push(store);
          return store;
        },
      };
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('starts empty', async () => {
      const keys = (await storage()).open();
      expect(await keys.list()).toEqual([]);
      expect(await keys.findByHash(record().hash)).toBeUndefined();
    });

    it('finds a key by its hash with every field as added, optional ones only when given', async () => {
      const keys = (await storage()).open();
      const full = record({ events: ['C2C_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE'], expiresAtMs: 1_800_000_000_000, readOnly: true });
      const bare = record({ appid: '102000002' });
      expect(await keys.add(stored(full))).toBe(true);
      expect(await keys.add(stored(bare))).toBe(true);
      expect(await keys.findByHash(full.hash)).toEqual(stored(full));
      const found = await keys.findByHash(bare.hash);
      expect(found).toEqual(stored(bare));
      expect(Object.keys(found!).sort()).toEqual(['appid', 'createdAtMs', 'hash', 'name']);
      expect(await keys.findByHash(record().hash)).toBeUndefined();
    });

    it('lists every key, oldest first', async () => {
      const keys = (await storage()).open();
      const [older, newer] = [record({ createdAtMs: 10 }), record({ createdAtMs: 20 })];
      await keys.add(stored(newer));
      await keys.add(stored(older));
      expect(await keys.list()).toEqual([stored(older), stored(newer)]);
    });

    it('refuses a second key with a name already taken, keeping the first', async () => {
      const keys = (await storage()).open();
      const first = record({ name: 'home-pc' });
      const second = record({ name: 'home-pc', appid: '102000009' });
      expect(await keys.add(stored(first))).toBe(true);
      expect(await keys.add(stored(second))).toBe(false);
      expect(await keys.list()).toEqual([stored(first)]);
      expect(await keys.findByHash(second.hash)).toBeUndefined();
    });

    it('revokes by name: the key is gone, the others stay, a second revoke finds nothing', async () => {
      const keys = (await storage()).open();
      const [gone, kept] = [record(), record()];
      await keys.add(stored(gone));
      await keys.add(stored(kept));
      expect(await keys.revoke(gone.name)).toBe(true);
      expect(await keys.findByHash(gone.hash)).toBeUndefined();
      expect(await keys.findByHash(kept.hash)).toEqual(stored(kept));
      expect(await keys.list()).toEqual([stored(kept)]);
      expect(await keys.revoke(gone.name)).toBe(false);
      expect(await keys.revoke('never-was')).toBe(false);
      // The name is free again.
      expect(await keys.add(stored(record({ name: gone.name })))).toBe(true);
    });

    it('adds made by one store are seen by another on the same storage, and so are revocations', async () => {
      const s = await storage();
      const [cli, gateway] = [s.open(), s.open()];
      const keys = Array.from({ length: 5 }, () => record({ name: 'same-length-name' }).hash).map((hash, i) =>
        record({ hash, name: `k${i}` }),
      );
      for (const k of keys) {
        // The gateway has already looked (and may hold a copy) before each change.
        expect(await gateway.findByHash(k.hash)).toBeUndefined();
        expect(await cli.add(stored(k))).toBe(true);
        expect(await gateway.findByHash(k.hash)).toEqual(stored(k));
        expect(await cli.revoke(k.name)).toBe(true);
        expect(await gateway.findByHash(k.hash)).toBeUndefined();
      }
      expect(await gateway.list()).toEqual([]);
    });

    it('keeps every one of many adds made at once', async () => {
      const keys = (await storage()).open();
      const many = Array.from({ length: 20 }, () => record());
      expect(await Promise.all(many.map((k) => keys.add(stored(k))))).toEqual(many.map(() => true));
      expect((await keys.list()).map((r) => r.name).sort()).toEqual(many.map((k) => k.name).sort());
    });
  });
}
