/** What Hookway does with an OpenAPI path: answer it itself, forward it to QQ_TOKEN_URL, or forward it to QQ_API_BASE. */
export type OpenApiRoute = 'discovery' | 'token' | 'api';

export interface OpenApiPath {
  /** `exact`: this path only; `under`: any path below it (`/v2/…`, never `/v2` itself). */
  readonly match: 'exact' | 'under';
  readonly path: string;
  readonly route: OpenApiRoute;
  /** The one method the route takes; any method when absent (the API has GET, POST, PUT, PATCH and DELETE). */
  readonly method?: string;
  /** Where the path is documented (shared/reference: qq-protocol.md §, sdk-clients.md §; botgo's openapi/v1/resource.go). */
  readonly source: string;
}

/**
 * The QQ OpenAPI, as far as Hookway serves it: the only paths that ever leave the server, whether an SDK sends them
 * over HTTP (the ingress's pass-through) or a raw client sends them in a call frame (the gateway). Everything else
 * (a typo of /webhook, a scanner's /wp-login.php, /metrics) is answered 404 by Hookway itself.
 */
export const OPENAPI_PATHS: readonly OpenApiPath[] = [
  { match: 'exact', path: '/gateway', route: 'discovery', method: 'GET', source: 'qq-protocol §3.2; sdk-clients §3.3 (satori)' },
  { match: 'exact', path: '/gateway/bot', route: 'discovery', method: 'GET', source: 'qq-protocol §3.2; sdk-clients §4' },
  { match: 'exact', path: '/app/getAppAccessToken', route: 'token', method: 'POST', source: 'qq-protocol §5.1; sdk-clients §4' },
  { match: 'under', path: '/v2', route: 'api', source: 'qq-protocol §5.3: group and C2C messages, files, recalls' },
  { match: 'under', path: '/channels', route: 'api', source: 'qq-protocol §5.3: channel messages; botgo: pins, schedules, announces…' },
  { match: 'under', path: '/dms', route: 'api', source: 'qq-protocol §5.3: guild DMs' },
  { match: 'under', path: '/interactions', route: 'api', source: 'qq-protocol §5.3: interaction ACK (PUT)' },
  { match: 'under', path: '/guilds', route: 'api', source: 'botgo resource.go: guilds, members, roles, mute, announces' },
  { match: 'exact', path: '/users/@me', route: 'api', source: 'sdk-clients §4: GET /users/@me' },
  { match: 'under', path: '/users/@me', route: 'api', source: 'botgo resource.go: /users/@me/guilds, /users/@me/dms' },
];

/** The table's entry for a normalised pathname (dot segments resolved), or undefined: not the OpenAPI. */
export function openApiPath(pathname: string): OpenApiPath | undefined {
  return OPENAPI_PATHS.find((p) =>
    p.match === 'exact' ? pathname === p.path : pathname.startsWith(`${p.path}/`) && pathname.length > p.path.length + 1,
  );
}

/** Longest path (with its query) a call may name: real OpenAPI paths are far shorter. */
export const MAX_CALL_PATH_LENGTH = 2048;

/**
 * The path and query Hookway may send upstream for a call made with its own access token (a raw client's call frame,
 * an HTTP request with a client key): an `api` route of the table, after dot segments are resolved — or undefined.
 * Never the token or discovery paths (Hookway's token is added, not fetched by the caller), never `//host`, never
 * backslashes, whitespace or control characters.
 */
export function apiCallTarget(path: string): string | undefined {
  if (path.length === 0 || path.length > MAX_CALL_PATH_LENGTH) return undefined;
  if (!path.startsWith('/') || path.startsWith('//') || /[\\\s#]/.test(path) || hasControlCharacter(path)) return undefined;
  let url: URL;
  try {
    url = new URL(path, 'http://hookway.invalid');
  } catch {
    return undefined;
  }
  if (url.origin !== 'http://hookway.invalid' || url.pathname.startsWith('//')) return undefined;
  return openApiPath(url.pathname)?.route === 'api' ? `${url.pathname}${url.search}` : undefined;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
