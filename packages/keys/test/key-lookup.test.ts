import { describe, expect, it } from 'vitest';
import { lookUpClientKey, newClientKey, type ClientKeyRecord, type ClientKeyStore } from '../src/index.ts';

/** A store of one key, counting lookups (a malformed key must not cost one). */
function storeOf(record: ClientKeyRecord) {
  const store = {
    lookups: 0,
    findByHash: async (hash: string) => {
      store.lookups++;
      return hash === record.hash ? record : undefined;
    },
  } satisfies Pick<ClientKeyStore, 'findByHash'> & Record<string, unknown>;
  return store;
}

describe('lookUpClientKey: a presented key → its record, or why not', () => {
  const { key, hash } = newClientKey();
  const record: ClientKeyRecord = { name: 'home-pc', appid: '102000001', hash, expiresAtMs: 2000, createdAtMs: 1 };

  it.each([
    ['the key', key, 1000, { ok: true, record }, 1],
    ['an expired key', key, 2000, { ok: false, error: 'expired_key', keyName: 'home-pc' }, 1],
    ['an unknown key', newClientKey().key, 1000, { ok: false, error: 'invalid_key' }, 1],
    ['a malformed key', 'hwk_short', 1000, { ok: false, error: 'invalid_key' }, 0],
  ])('%s', async (_what, presented, nowMs, expected, lookups) => {
    const store = storeOf(record);
    expect(await lookUpClientKey(store, presented, nowMs)).toMatchObject(expected);
    expect(store.lookups).toBe(lookups);
  });
});
