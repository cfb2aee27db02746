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
  // Client keys: in `?key=`, and anywhere by their prefix (a Bearer header, a token in a frame).
  /([?&]key=)([^&\s"'#\\]+)/g,
  /(hwk_)([A-Za-z0-9_-]{8,})/g,
  /(\/(?:ws|webhook|websocket)\/)([^/?\s"'#\\]+)/g,
  // Redis keys and channels are named after the secret: qq:{<secret>}:… and qq:<secret>.
  /(qq:\{)([A-Za-z0-9._~-]{6,128})(?=\})/g,
  /(qq:)([A-Za-z0-9._~-]{6,128})(?![A-Za-z0-9._~-])/g,
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

/** Values of any shape (a Redis password may hold any character) are replaced literally; there are only a few. */
const LITERALS_MAX = 100;
const SECRET_SHAPED = /^[A-Za-z0-9._~-]{6,}$/;

export function createRedactor(): Redactor {
  const remembered = new Set<string>();
  const literals: string[] = [];
  const replaceToken = (token: string): string => {
    if (remembered.has(token)) return secretFingerprint(token);
    return token.replace(ALNUM_RUN, (run) => (remembered.has(run) ? secretFingerprint(run) : run));
  };

  return {
    remember(secret) {
      if (secret.length === 0 || remembered.has(secret)) return;
      if (!SECRET_SHAPED.test(secret)) {
        if (!literals.includes(secret) && literals.length < LITERALS_MAX) literals.push(secret);
        return;
      }
      remembered.add(secret);
      if (remembered.size > REMEMBERED_MAX) remembered.delete(remembered.values().next().value as string);
    },
    redact(text) {
      let out = text;
      for (const pattern of URL_SECRET_PATTERNS) {
        out = out.replace(pattern, (_m, prefix: string, value: string) => prefix + secretFingerprint(decodeSafe(value)));
      }
      for (const literal of literals) if (out.includes(literal)) out = out.split(literal).join(secretFingerprint(literal));
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
