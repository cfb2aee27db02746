import { CHECK_NONCE_PATTERN } from './check.ts';
import { AppSecret } from './secret.ts';

export interface EndpointMatch {
  /** The AppSecret from `/<name>/S` or `?secret=S`, or undefined when it is missing, repeated or implausible. */
  readonly secret: AppSecret | undefined;
  /** Where the URL carries a secret (even an implausible one): `/<name>/S`, `?secret=`, or nowhere. */
  readonly secretIn: 'path' | 'query' | undefined;
  readonly query: URLSearchParams;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** A request target without its scheme and authority, as proxies send absolute-form (`http://host/path` → `/path`). */
export function stripAbsoluteForm(target: string): string {
  return target.replace(ABSOLUTE_FORM, '');
}

/**
 * Matches a request target against `/<name>?secret=S` and `/<name>/S` (a trailing slash allowed; origin or absolute
 * form, as proxies send). Returns null for any other path. One parser for every endpoint, so the webhook and the
 * WebSocket routes can never disagree about what a secret is.
 */
export function matchSecretEndpoint(rawUrl: string, name: string): EndpointMatch | null {
  const plain = plainSecretQuery(rawUrl, name);
  if (plain !== undefined) return plain;
  const target = stripAbsoluteForm(rawUrl);
  const queryAt = target.indexOf('?');
  const pathname = queryAt === -1 ? target : target.slice(0, queryAt);
  const segments = pathname.split('/');
  // ['', name] · ['', name, ''] · ['', name, S] · ['', name, S, '']
  if (segments[0] !== '' || segments[1] !== name || segments.length > 4) return null;
  if (segments.length === 4 && segments[3] !== '') return null;
  const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
  const inPath = segments[2] ? safeDecode(segments[2]) : undefined;
  const inQuery = query.getAll('secret');
  const candidate = inPath !== undefined ? (inQuery.length === 0 ? inPath : undefined) : inQuery.length === 1 ? inQuery[0] : undefined;
  const secretIn = segments[2] ? 'path' : inQuery.length > 0 ? 'query' : undefined;
  return { secret: AppSecret.parse(candidate), secretIn, query };
}

/** `secret=S` alone, S of an AppSecret's characters: nothing in it that URLSearchParams would decode (`%`, `+`). */
const PLAIN_SECRET_QUERY = /^secret=([A-Za-z0-9._~-]{6,128})$/;

/**
 * The callback URL as the platform calls it on every webhook, `/<name>?secret=S`, read without URLSearchParams
 * (which the caller rarely needs: it is made on first use). Undefined for any other target: the general parser decides.
 */
function plainSecretQuery(rawUrl: string, name: string): EndpointMatch | undefined {
  const queryAt = name.length + 1;
  if (rawUrl.charCodeAt(0) !== 47 /* / */ || rawUrl.charCodeAt(queryAt) !== 63 /* ? */ || !rawUrl.startsWith(name, 1)) return undefined;
  const query = rawUrl.slice(queryAt + 1);
  const plain = PLAIN_SECRET_QUERY.exec(query);
  if (plain === null) return undefined;
  return new PlainSecretMatch(AppSecret.parse(plain[1]), query);
}

/**
 * The fast path's answer: a class, so the lazy `query` getter lives on the prototype (an object literal with a getter
 * made a closure and a dictionary-mode transition per webhook, ~2 µs in a CPU profile of S1).
 */
class PlainSecretMatch implements EndpointMatch {
  readonly secretIn = 'query' as const;
  private params: URLSearchParams | undefined;

  constructor(
    readonly secret: AppSecret | undefined,
    private readonly rawQuery: string,
  ) {}

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.rawQuery));
  }
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `/ws…` (raw mode) or `/websocket…` (gateway mode): what plain HTTP there is told to upgrade instead. */
export function isWebSocketEndpoint(rawUrl: string): boolean {
  return (
    matchSecretEndpoint(rawUrl, 'ws') !== null ||
    matchSecretEndpoint(rawUrl, 'websocket') !== null ||
    checkSocketNonce(rawUrl) !== undefined
  );
}

/**
 * The nonce of a check socket's URL (`/ws/check/<nonce>`, a trailing slash and a query allowed), '' when the path is a
 * check socket's with no usable nonce, undefined for any other path.
 */
export function checkSocketNonce(rawUrl: string): string | undefined {
  const target = stripAbsoluteForm(rawUrl);
  const pathname = target.split(/[?#]/, 1)[0]!;
  const match = /^\/ws\/check(?:\/([^/]*))?\/?$/.exec(pathname);
  if (!match) return undefined;
  return match[1] !== undefined && CHECK_NONCE_PATTERN.test(match[1]) ? match[1] : '';
}
