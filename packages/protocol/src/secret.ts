import { createHash } from 'node:crypto';

/**
 * AppSecrets are short ASCII strings (observed: 12–32 alphanumerics). Anything outside this shape is not a
 * secret the platform issued, so it is refused before it can create state or reach a log.
 */
export const SECRET_PATTERN = /^[A-Za-z0-9._~-]{6,128}$/;

export function isPlausibleSecret(value: unknown): value is string {
  return typeof value === 'string' && SECRET_PATTERN.test(value);
}

/** A short, stable, non-reversible name for a secret, safe to log: `bot:1a2b3c4d`. */
export function secretFingerprint(secret: string): string {
  return `bot:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}`;
}
