import type { AppSecret } from '@hookway/protocol';

// The OpenAPI path table is shared with the gateway (raw clients' call frames): it lives in packages/protocol.
export { OPENAPI_PATHS, openApiPath, type OpenApiPath, type OpenApiRoute } from '@hookway/protocol';

/**
 * Whether a request target (path and query, as sent) carries a credential: a `secret` parameter (any spelling of the
 * name, any value), or one of the known bots' AppSecrets anywhere in it, raw or percent-decoded. Such a request is
 * never forwarded.
 */
export function carriesSecret(target: string, known: Iterable<AppSecret>): boolean {
  const queryAt = target.indexOf('?');
  if (queryAt !== -1) {
    for (const name of new URLSearchParams(target.slice(queryAt + 1)).keys()) if (name.trim().toLowerCase() === 'secret') return true;
  }
  const forms = [target, safeDecode(target)];
  for (const secret of known) {
    const value = secret.reveal();
    if (forms.some((form) => form.includes(value))) return true;
  }
  return false;
}

const WEBHOOK_HINT =
  'no such endpoint; did you mean POST /webhook? The callback URL is https://<your host>/webhook exactly (lower case, nothing after it), with the bot configured in BOTS=appid:secret or BOTS_FILE';
const WEBSOCKET_HINT =
  'no such endpoint; did you mean a WebSocket endpoint? Clients connect with a WebSocket upgrade to exactly /ws (raw mode) or /websocket (gateway mode), lower case, with nothing after the path but the query';

/** A hint for a 404 whose path looks like a mistyped /webhook or /ws (case, a letter off, something after it). */
export function routeHint(pathname: string): string | undefined {
  const segments = pathname
    .split('/')
    .filter(Boolean)
    .slice(0, 3)
    .map((s) => safeDecode(s).toLowerCase());
  const [first] = segments;
  if (first === undefined) return undefined;
  if (segments.includes('webhook') || within(first, 'webhook', 2)) return WEBHOOK_HINT;
  if (segments.includes('ws') || segments.includes('websocket') || first === 'wss' || within(first, 'websocket', 2)) return WEBSOCKET_HINT;
  return undefined;
}

/** Levenshtein distance of `a` and `b` is at most `max` (short strings only: anything longer is not a typo of them). */
function within(a: string, b: string, max: number): boolean {
  if (Math.abs(a.length - b.length) > max || a.length > 32) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]! <= max;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
