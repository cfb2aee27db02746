import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

/**
 * AppSecrets are short ASCII strings (observed: 12–32 alphanumerics). Anything outside this shape is not a
 * secret the platform issued, so it is refused before it can create state or reach a log.
 */
export const SECRET_PATTERN = /^[A-Za-z0-9._~-]{6,128}$/;

export function isPlausibleSecret(value: unknown): value is string {
  return typeof value === 'string' && SECRET_PATTERN.test(value);
}

declare const botTagBrand: unique symbol;
/** A short, stable, non-reversible name for a bot, safe to log: `bot:1a2b3c4d`. Never a credential. */
export type BotTag = string & { readonly [botTagBrand]: true };

/** The tag of any secret-like string (an AppSecret, a password): what logs show instead of it. */
export function secretFingerprint(secret: string): BotTag {
  let tag = recentTags.get(secret);
  if (tag === undefined) {
    tag = `bot:${createHash('sha256').update(secret).digest('hex').slice(0, 8)}` as BotTag;
    // Each webhook parses its secret into a new AppSecret: without this, every event would hash its secret again.
    if (recentTags.size >= RECENT_TAGS_MAX) recentTags.delete(recentTags.keys().next().value!);
    recentTags.set(secret, tag);
  }
  return tag;
}
/** Bounded: made-up secrets cannot grow it; the bots that send events stay in it. */
const RECENT_TAGS_MAX = 1024;
const recentTags = new Map<string, BotTag>();

/**
 * A bot's AppSecret: the credential that signs its webhooks and can send messages as the bot. It is a type of its
 * own so it cannot be mistaken for its tag or any other string: logging it, interpolating it or serialising it
 * yields only the tag. The raw value comes out through `reveal()` alone — for signatures, Redis keys and the
 * token request, never for a log line or a URL we build.
 */
export class AppSecret {
  readonly #value: string;
  #tag: BotTag | undefined;

  private constructor(value: string) {
    this.#value = value;
  }

  /** The secret, if `value` has the shape of one; undefined otherwise. */
  static parse(value: unknown): AppSecret | undefined {
    return isPlausibleSecret(value) ? new AppSecret(value) : undefined;
  }

  /** For values already known to be secrets (configuration, tests): throws on anything else. */
  static of(value: string): AppSecret {
    const secret = AppSecret.parse(value);
    if (!secret) throw new TypeError('not an AppSecret: expected 6–128 of A-Z a-z 0-9 . _ ~ -');
    return secret;
  }

  /** The safe name for logs, computed once. */
  get tag(): BotTag {
    return (this.#tag ??= secretFingerprint(this.#value));
  }

  /** The raw secret. Every call site is a place the secret leaves this object: keep them few. */
  reveal(): string {
    return this.#value;
  }

  /** Constant-time comparison. */
  equals(other: AppSecret): boolean {
    const a = Buffer.from(this.#value);
    const b = Buffer.from(other.#value);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  toString(): string {
    return this.tag;
  }

  toJSON(): string {
    return this.tag;
  }

  [inspect.custom](): string {
    return `AppSecret(${this.tag})`;
  }
}
