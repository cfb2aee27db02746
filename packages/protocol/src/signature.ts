import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 keys and signatures as the QQ platform uses them (qq-protocol.md §2.6).
 * `node:crypto` is the hot path: it verifies ~150× faster than tweetnacl here.
 */

const SEED_BYTES = 32;
const SIGNATURE_HEX_PATTERN = /^[0-9a-fA-F]{128}$/;
const TIMESTAMP_PATTERN = /^\d{1,15}$/;
/** RFC 8410 PKCS#8 prefix for a raw 32-byte Ed25519 seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Repeat the secret until it is at least 32 bytes, then keep the first 32: the Ed25519 seed. */
export function deriveSeed(secret: string): Buffer {
  const bytes = Buffer.from(secret, 'utf8');
  if (bytes.length === 0) throw new Error('secret must not be empty');
  const repeats = Math.ceil(SEED_BYTES / bytes.length);
  return Buffer.concat(Array.from({ length: repeats }, () => bytes)).subarray(0, SEED_BYTES);
}

export interface BotKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Raw 32-byte public key, hex. */
  readonly publicKeyHex: string;
  /** Raw 32-byte public key: what a verifying thread needs (never the secret). */
  readonly publicKeyRaw: Buffer;
}

function buildKeys(secret: string): BotKeys {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, deriveSeed(secret)]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const publicKeyRaw = Buffer.from(spki.subarray(spki.length - SEED_BYTES));
  return { privateKey, publicKey, publicKeyHex: publicKeyRaw.toString('hex'), publicKeyRaw };
}

/** Bounded so that a flood of made-up secrets cannot grow it; the most recently used keys stay. */
const KEY_CACHE_MAX = 1024;
const keyCache = new Map<string, BotKeys>();
let lastUsed: BotKeys | undefined;

export function keysForSecret(secret: string): BotKeys {
  const cached = keyCache.get(secret);
  if (cached) {
    // Least recently used goes first; re-inserting the one used last would only cost two map operations per event.
    if (cached !== lastUsed) {
      keyCache.delete(secret);
      keyCache.set(secret, cached);
      lastUsed = cached;
    }
    return cached;
  }
  const keys = buildKeys(secret);
  keyCache.set(secret, keys);
  lastUsed = keys;
  if (keyCache.size > KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  return keys;
}

/** Op 13 reply: `lowercase_hex(sign(event_ts ‖ plain_token))`. */
export function signCallbackValidation(secret: string, eventTs: string, plainToken: string): string {
  return sign(null, Buffer.from(eventTs + plainToken, 'utf8'), keysForSecret(secret).privateKey).toString('hex');
}

/** What the platform sends in `X-Signature-Ed25519` for a delivery: `sign(timestamp ‖ raw body)`. */
export function signDispatch(secret: string, timestamp: string, rawBody: Uint8Array): string {
  return sign(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), keysForSecret(secret).privateKey).toString('hex');
}

export type DispatchRefusalReason =
  'missing_signature' | 'malformed_signature' | 'missing_timestamp' | 'malformed_timestamp' | 'bad_signature';

export type DispatchVerdict = { ok: true } | { ok: false; reason: DispatchRefusalReason };

/** What is left to check once the headers have their shape: the curve, over `timestamp ‖ raw body`. */
export interface DispatchToVerify {
  readonly ok: true;
  readonly timestamp: string;
  /** The 64 signature bytes. */
  readonly signature: Buffer;
}

/**
 * Everything `verifyDispatch` checks before the curve: the headers' presence and shape, and the cheap malleability
 * pre-check. A verifier that runs the curve elsewhere (a thread pool) starts here. Never throws.
 */
export function checkDispatchHeaders(
  timestamp: string | undefined,
  signatureHex: string | undefined,
): DispatchToVerify | { ok: false; reason: DispatchRefusalReason } {
  if (!signatureHex) return { ok: false, reason: 'missing_signature' };
  if (!SIGNATURE_HEX_PATTERN.test(signatureHex)) return { ok: false, reason: 'malformed_signature' };
  if (!timestamp) return { ok: false, reason: 'missing_timestamp' };
  if (!TIMESTAMP_PATTERN.test(timestamp)) return { ok: false, reason: 'malformed_timestamp' };
  const signature = Buffer.from(signatureHex, 'hex');
  // Same cheap malleability pre-check as BOTGO and nonebot: the top three bits of S must be clear.
  if ((signature[63]! & 0xe0) !== 0) return { ok: false, reason: 'bad_signature' };
  return { ok: true, timestamp, signature };
}

/**
 * Checks `X-Signature-Ed25519` over `X-Signature-Timestamp ‖ raw body` exactly as received.
 * Never throws: every failure is a verdict with a reason.
 */
export function verifyDispatch(
  secret: string,
  timestamp: string | undefined,
  signatureHex: string | undefined,
  rawBody: Uint8Array,
): DispatchVerdict {
  const headers = checkDispatchHeaders(timestamp, signatureHex);
  if (!headers.ok) return headers;
  const message = Buffer.concat([Buffer.from(headers.timestamp, 'utf8'), rawBody]);
  return verify(null, message, keysForSecret(secret).publicKey, headers.signature) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
