import type { ClientKeyRecord } from './client-key.ts';

/**
 * Where client keys live: a file in the embedded mode (`FileClientKeyStore`, CLIENT_KEYS_FILE), Redis when the
 * replicas share one (`RedisClientKeyStore`). Both pass one contract suite (test/client-key-store.contract.ts).
 * `hookway keys …` writes; gateways read, so a change made by the command reaches every running process.
 */
export interface ClientKeyStore {
  /** Stores a new key; false (and nothing changes) when a key of that name exists. */
  add(record: ClientKeyRecord): Promise<boolean>;
  /** Every key, expired ones included, oldest first. */
  list(): Promise<readonly ClientKeyRecord[]>;
  /** Removes the key of that name; false when there is none. Its clients are closed by the gateways' re-check. */
  revoke(name: string): Promise<boolean>;
  /** The key with this SHA-256 (see `hashClientKey`), expired or not; undefined when unknown or revoked. */
  findByHash(hash: string): Promise<ClientKeyRecord | undefined>;
  close(): Promise<void>;
}

export const byCreation = (a: ClientKeyRecord, b: ClientKeyRecord) => a.createdAtMs - b.createdAtMs || (a.name < b.name ? -1 : 1);
