import { secretFingerprint } from '@hookway/protocol';

/**
 * Replaces secrets in text with their fingerprints. It runs on every serialised log line, so no call site
 * can leak a secret: URL-borne secrets are caught by shape, and every secret the process has verified is
 * remembered and caught wherever else it appears (error messages, debug dumps).
 */
export interface Redactor {
  /** Make sure this value never appears in a log line again. Feed it only authenticated secrets. */
  remember(secret: string): void;
  redact(text: string): string;
}

const URL_SECRET_PATTERNS: readonly RegExp[] = [
  /([?&]secret=)([^&\s"'#\\]+)/g,
  /(\/(?:ws|webhook)\/)([^/?\s"'#\\]+)/g,
];
/**
 * Candidate tokens: runs of the characters a secret may contain, and the alphanumeric runs inside them, so a
 * secret is found whether it stands alone or is glued to a prefix such as `qq.`. A Set lookup per token keeps
 * the cost linear in the line, however many secrets are remembered.
 */
const TOKEN = /[A-Za-z0-9._~-]{6,}/g;
const ALNUM_RUN = /[A-Za-z0-9]{6,}/g;
/** Bounded so traffic cannot grow it without limit; URL shapes are caught regardless. */
const REMEMBERED_MAX = 100_000;

export function createRedactor(): Redactor {
  const remembered = new Set<string>();
  const replaceToken = (token: string): string => {
    if (remembered.has(token)) return secretFingerprint(token);
    return token.replace(ALNUM_RUN, (run) => (remembered.has(run) ? secretFingerprint(run) : run));
  };

  return {
    remember(secret) {
      if (secret.length === 0 || remembered.has(secret)) return;
      remembered.add(secret);
      if (remembered.size > REMEMBERED_MAX) remembered.delete(remembered.values().next().value as string);
    },
    redact(text) {
      let out = text;
      for (const pattern of URL_SECRET_PATTERNS) {
        out = out.replace(pattern, (_m, prefix: string, value: string) => prefix + secretFingerprint(decodeSafe(value)));
      }
      return remembered.size > 0 ? out.replace(TOKEN, replaceToken) : out;
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
