export {
  CLIENT_KEY_PREFIX,
  KEY_NAME_PATTERN,
  KEY_NAME_RULE,
  APPID_PATTERN,
  newClientKey,
  hashClientKey,
  isClientKeyShaped,
  isExpired,
  parseClientKeyRecord,
  readOnlyAllows,
  type ClientKeyRecord,
} from './client-key.ts';
export { type ClientKeyStore } from './client-key-store.ts';
export { FileClientKeyStore } from './file-client-key-store.ts';
export { RedisClientKeyStore } from './redis-client-key-store.ts';
export { openClientKeyStore, type ClientKeySettings } from './open-client-key-store.ts';
export { lookUpClientKey, type KeyLookup } from './key-lookup.ts';
