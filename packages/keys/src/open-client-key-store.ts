import type { StoreBackend } from '@hookway/redis';
import type { ClientKeyStore } from './client-key-store.ts';
import { FileClientKeyStore } from './file-client-key-store.ts';
import { RedisClientKeyStore } from './redis-client-key-store.ts';

export interface ClientKeySettings {
  /** CLIENT_KEYS_FILE: where the embedded mode keeps its keys. */
  readonly clientKeysFile: string;
}

/** In Redis when the process has one (every replica sees the same keys), else in CLIENT_KEYS_FILE. */
export function openClientKeyStore(backend: StoreBackend, settings: ClientKeySettings): ClientKeyStore {
  return backend.kind === 'redis' ? new RedisClientKeyStore(backend.connection) : new FileClientKeyStore(settings.clientKeysFile);
}
