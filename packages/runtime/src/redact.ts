import { secretFingerprint } from '@hookway/protocol';

/**
 * Replaces secrets in text with their fingerprints. It runs on every serialised log line, so no call site
 * can leak a secret: URL-borne secrets are caught by shape, and every secret the process has handled is
 * remembered and caught wherever else it appears (error messages, debug dumps).
 */
export interface Redactor {
  /** Make sure this value never appears in a log line again. */
  remember(secret: string): void;
  redact(text: string): string;
}

const URL_SECRET_PATTERNS: readonly RegExp[] = [
  /([?&]secret=)([^&\s"'#\\]+)/g,
  /(\/(?:ws|webhook)\/)([^/?\s"'#\\]+)/g,
];
/** Bounded so hostile traffic cannot grow it without limit; URL shapes are caught regardless. */
const REMEMBERED_MAX = 10_000;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createRedactor(): Redactor {
  const remembered = new Set<string>();
  let rememberedPattern: RegExp | undefined;

  return {
    remember(secret) {
      if (secret.length === 0 || remembered.has(secret)) return;
      remembered.add(secret);
      if (remembered.size > REMEMBERED_MAX) remembered.delete(remembered.values().next().value as string);
      rememberedPattern = undefined;
    },
    redact(text) {
      let out = text;
      for (const pattern of URL_SECRET_PATTERNS) {
        out = out.replace(pattern, (_m, prefix: string, value: string) => prefix + secretFingerprint(decodeSafe(value)));
      }
      if (remembered.size > 0) {
        rememberedPattern ??= new RegExp(
          [...remembered].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'),
          'g',
        );
        out = out.replace(rememberedPattern, (s) => secretFingerprint(s));
      }
      return out;
    },
  };
}

function decodeSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
