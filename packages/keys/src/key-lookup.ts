import { hashClientKey, isClientKeyShaped, isExpired, type ClientKeyRecord } from './client-key.ts';
import type { ClientKeyStore } from './client-key-store.ts';

/** A presented key → its record, or why it does not work: one rule for WebSocket upgrades and HTTP requests. */
export type KeyLookup =
  | { readonly ok: true; readonly record: ClientKeyRecord }
  | { readonly ok: false; readonly error: 'invalid_key' | 'expired_key'; readonly message: string; readonly keyName?: string };

/** Looks a presented key up (a malformed one without touching the store). Store errors are thrown. */
export async function lookUpClientKey(store: Pick<ClientKeyStore, 'findByHash'>, key: string, nowMs: number): Promise<KeyLookup> {
  if (!isClientKeyShaped(key)) return { ok: false, error: 'invalid_key', message: 'that is not a client key (hwk_…)' };
  const record = await store.findByHash(hashClientKey(key));
  if (!record) {
    return { ok: false, error: 'invalid_key', message: 'no such client key: it was mistyped, revoked, or made for another Hookway' };
  }
  if (isExpired(record, nowMs)) {
    const when = new Date(record.expiresAtMs!).toISOString();
    return {
      ok: false,
      error: 'expired_key',
      message: `the client key "${record.name}" expired at ${when}; ask for a new one`,
      keyName: record.name,
    };
  }
  return { ok: true, record };
}
