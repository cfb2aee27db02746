import { createHash, randomBytes } from 'node:crypto';
import { CLIENT_KEY_PREFIX } from '@hookway/protocol';

export { CLIENT_KEY_PREFIX };

/**
 * A client key: a credential of its own for one bot's clients, so the AppSecret can stay on the server.
 * `hwk_` + base64url of 32 random bytes (256 bits). Hookway stores only its SHA-256; the key itself is shown once,
 * when it is created, and never logged.
 */
const KEY_BYTES = 32;
/** At least 24 random bytes (32 base64url characters); longer keys made elsewhere are accepted up to a bound. */
const CLIENT_KEY_PATTERN = /^hwk_[A-Za-z0-9_-]{32,128}$/;

/** What Hookway keeps about a key: never the key itself. */
export interface ClientKeyRecord {
  /** Unique, chosen by the operator (`home-pc`); shown in logs and `keys list`. */
  readonly name: string;
  /** The bot whose events the key's clients receive. */
  readonly appid: string;
  /** SHA-256 of the key, lowercase hex. */
  readonly hash: string;
  /** When set, the key's clients receive only these event types (`t`). */
  readonly events?: readonly string[];
  /** When set, the key stops working at this time (ms since the epoch). */
  readonly expiresAtMs?: number;
  /**
   * A read-only key receives events and may read (GET calls, over the socket or HTTP) but never act: no message
   * sent, recalled or acknowledged in the bot's name. Absent: the key may make every call.
   */
  readonly readOnly?: true;
  readonly createdAtMs: number;
}

export const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const KEY_NAME_RULE = '1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit';
export const APPID_PATTERN = /^\d{1,20}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;
const EVENT_TYPE_PATTERN = /^[A-Z0-9_]{1,64}$/;

/** A new random key and the hash to store for it. */
export function newClientKey(): { key: string; hash: string } {
  const key = CLIENT_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
  return { key, hash: hashClientKey(key) };
}

export function hashClientKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** True for strings shaped like a client key (checked before any lookup). */
export function isClientKeyShaped(value: unknown): value is string {
  return typeof value === 'string' && CLIENT_KEY_PATTERN.test(value);
}

/** True when the key has an expiry and it has passed. */
export function isExpired(record: Pick<ClientKeyRecord, 'expiresAtMs'>, nowMs: number): boolean {
  return record.expiresAtMs !== undefined && record.expiresAtMs <= nowMs;
}

/**
 * A stored record, checked field by field (files can be edited by hand, Redis by anyone with access): the record, or
 * a sentence saying what is wrong with it — without repeating its values.
 */
export function parseClientKeyRecord(value: unknown): ClientKeyRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const r = value as Record<string, unknown>;
  if (typeof r.name !== 'string' || !KEY_NAME_PATTERN.test(r.name)) return `name must be ${KEY_NAME_RULE}`;
  if (typeof r.appid !== 'string' || !APPID_PATTERN.test(r.appid)) return 'appid must be 1–20 digits';
  if (typeof r.hash !== 'string' || !HASH_PATTERN.test(r.hash)) return 'hash must be 64 lowercase hex digits';
  if (r.events !== undefined) {
    if (!Array.isArray(r.events) || r.events.length === 0 || !r.events.every((e) => typeof e === 'string' && EVENT_TYPE_PATTERN.test(e))) {
      return 'events must be a non-empty list of event type names';
    }
  }
  if (r.expiresAtMs !== undefined && !Number.isSafeInteger(r.expiresAtMs)) return 'expiresAtMs must be a whole number';
  if (r.readOnly !== undefined && r.readOnly !== true) return 'readOnly must be true, or left out';
  if (!Number.isSafeInteger(r.createdAtMs)) return 'createdAtMs must be a whole number';
  return {
    name: r.name,
    appid: r.appid,
    hash: r.hash,
    ...(r.events !== undefined ? { events: [...(r.events as string[])] } : {}),
    ...(r.expiresAtMs !== undefined ? { expiresAtMs: r.expiresAtMs as number } : {}),
    ...(r.readOnly === true ? { readOnly: true as const } : {}),
    createdAtMs: r.createdAtMs as number,
  };
}

/** Methods a read-only key's holder may use: reading, never acting. */
export function readOnlyAllows(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
