import type { IncomingHttpHeaders } from 'node:http';
import { isClientKeyShaped } from '@hookway/keys';
import {
  checkSocketNonce,
  CLIENT_KEY_PREFIX,
  describeEventTypes,
  matchSecretEndpoint,
  parseEventList,
  stripAbsoluteForm,
  type AppSecret,
} from '@hookway/protocol';

/** What a client presented at the upgrade: the bot's AppSecret in the URL, or a client key (query or header). */
export type UpgradeCredential = { kind: 'secret'; secret: AppSecret } | { kind: 'key'; key: string };

/** What a WebSocket upgrade asked for, or why it cannot be served. */
export type UpgradeTarget =
  | {
      kind: 'raw';
      credential: UpgradeCredential;
      after: string | undefined;
      /** `events=`: only these event types (upper-case, each once); undefined: all the credential allows. */
      events: readonly string[] | undefined;
      /** `hello=1`: a hello frame first. */
      hello: boolean;
    }
  /** `hookway check`'s own socket (`/ws/check/<nonce>`): a client key is optional, an AppSecret is never taken. */
  | { kind: 'check'; nonce: string; key: string | undefined }
  /** Without a credential here, the client authenticates in Identify (a token, or a client key as the token). */
  | { kind: 'gateway'; credential: UpgradeCredential | undefined }
  | { kind: 'refused'; status: number; error: string; message: string };

export interface UpgradeRequest {
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export interface UpgradeRules {
  /** ALLOW_SECRET_IN_URL: false refuses `/ws?secret=`, `/ws/S`, `/websocket?secret=` and `/websocket/S` with 403. */
  readonly allowSecretInUrl: boolean;
}

const MAX_CURSOR_LENGTH = 512;
/** Every known event type, comma-separated, fits in well under this; longer is refused before it is split. */
const MAX_EVENTS_LENGTH = 2048;
type Endpoint = 'ws' | 'websocket';

const KEY_FORMS: Record<Endpoint, string> = {
  ws: '/ws with the header Authorization: Bearer <client key>, or /ws?key=<client key>',
  websocket: '/websocket?key=<client key>, or /websocket with the key (or an access token) as the Identify token',
};
const CREATE_KEY = 'create a key with `pnpm hookway keys add --bot <appid> --name <name>`';

/**
 * The one parser of WebSocket upgrades: the endpoint (`/ws` raw mode, `/websocket` gateway mode), the credential
 * (`?secret=` or `/<endpoint>/S` when ALLOW_SECRET_IN_URL allows it; `?key=` or `Authorization: Bearer` for a
 * client key) and the resume cursor — or why the upgrade is refused (400 malformed, 401 not a key, 403 a form
 * turned off, 404 no such endpoint). Nothing is looked up here: a well-formed key is checked by the gateway.
 */
export function parseUpgradeTarget(req: UpgradeRequest, rules: UpgradeRules): UpgradeTarget {
  const rawUrl = req.url ?? '/';
  const nonce = checkSocketNonce(rawUrl);
  if (nonce !== undefined) return checkTarget(nonce, rawUrl, req.headers);
  const endpoint: Endpoint | undefined = matchSecretEndpoint(rawUrl, 'websocket')
    ? 'websocket'
    : matchSecretEndpoint(rawUrl, 'ws')
      ? 'ws'
      : undefined;
  if (!endpoint) return refused(404, 'not_found', `WebSocket endpoints: ${KEY_FORMS.ws}; ${KEY_FORMS.websocket}`);
  const match = matchSecretEndpoint(rawUrl, endpoint)!;

  const inPath = new RegExp(`^/${endpoint}/([^/?#]+)`).exec(stripAbsoluteForm(rawUrl))?.[1];
  const secretsGiven = [...(inPath === undefined ? [] : [inPath]), ...match.query.getAll('secret')];
  if (secretsGiven.some((value) => value.startsWith(CLIENT_KEY_PREFIX))) {
    return refused(400, 'key_in_secret_place', `that is a client key, not an AppSecret: connect to ${KEY_FORMS[endpoint]}`);
  }
  if (secretsGiven.length > 0 && !rules.allowSecretInUrl) {
    return refused(
      403,
      'secret_in_url_refused',
      `the AppSecret in the URL is turned off here (ALLOW_SECRET_IN_URL=false): connect to ${KEY_FORMS[endpoint]} (${CREATE_KEY})`,
    );
  }

  const key = presentedKey(match.query, req.headers, endpoint);
  if (typeof key === 'object') return key;
  if (key !== undefined && secretsGiven.length > 0) {
    return refused(400, 'ambiguous_credentials', 'give either the AppSecret or a client key, not both');
  }
  if (key !== undefined && !isClientKeyShaped(key)) {
    return refused(401, 'invalid_key', `that is not a client key (hwk_…): ${CREATE_KEY}`);
  }
  if (secretsGiven.length > 0 && match.secret === undefined) {
    return refused(
      400,
      'invalid_secret',
      `an AppSecret is 6–128 of A-Z a-z 0-9 . _ ~ -, given once; better, connect to ${KEY_FORMS[endpoint]} and keep the AppSecret on the server`,
    );
  }
  const credential: UpgradeCredential | undefined =
    key !== undefined ? { kind: 'key', key } : match.secret !== undefined ? { kind: 'secret', secret: match.secret } : undefined;

  if (endpoint === 'websocket') return { kind: 'gateway', credential };
  if (!credential) {
    const secretForms = rules.allowSecretInUrl ? ', or /ws?secret=<AppSecret>' : '';
    return refused(400, 'missing_credentials', `connect to ${KEY_FORMS.ws}${secretForms}`);
  }
  const after = match.query.getAll('after');
  if (after.length > 1 || (after.length === 1 && (after[0]!.length === 0 || after[0]!.length > MAX_CURSOR_LENGTH))) {
    return refused(400, 'invalid_after', `after must be the top-level id of the last event received (1–${MAX_CURSOR_LENGTH} characters)`);
  }
  const filter = eventFilter(match.query);
  if (filter.kind === 'refused') return filter;
  const hello = match.query.getAll('hello');
  if (hello.length > 1 || (hello.length === 1 && !HELLO_VALUES.has(hello[0]!))) {
    return refused(400, 'invalid_hello', 'hello=1 asks for a hello frame first (hello=0 or leaving it out: none); give it once');
  }
  return { kind: 'raw', credential, after: after[0], events: filter.events, hello: hello[0] === '1' || hello[0] === 'true' };
}

const HELLO_VALUES = new Set(['0', '1', 'true', 'false']);

/** `events=A,B` (the rule is parseEventList's): the list, undefined when absent, or the refusal naming the valid types. */
function eventFilter(query: URLSearchParams): { kind: 'filter'; events: readonly string[] | undefined } | Refused {
  const given = query.getAll('events');
  if (given.length === 0) return { kind: 'filter', events: undefined };
  if (given.length > 1) return refused(400, 'invalid_events', 'give events= once, the event types comma-separated: events=A,B');
  if (given[0]!.length > MAX_EVENTS_LENGTH) return refused(400, 'invalid_events', `events= is longer than ${MAX_EVENTS_LENGTH} characters`);
  const parsed = parseEventList(given[0]!);
  if (parsed.ok) return { kind: 'filter', events: parsed.events };
  if (parsed.problem === 'empty') {
    return refused(400, 'invalid_events', 'events= names no event type: give at least one (events=A,B), or leave it out to receive all');
  }
  const { unknown } = parsed;
  return refused(
    400,
    'unknown_events',
    `unknown event type${unknown.length === 1 ? '' : 's'} ${unknown.join(', ').slice(0, 200)}. Valid event types, by intent: ${describeEventTypes('; ')}`,
  );
}

/**
 * The client key from `?key=` or `Authorization: Bearer`, undefined when there is none, or a refusal. On `/ws` any
 * Bearer credential is meant as a key; on `/websocket` only one that starts like a key is (an SDK may send its
 * access token there, and gateway mode authenticates in Identify).
 */
function presentedKey(query: URLSearchParams, headers: IncomingHttpHeaders, endpoint: Endpoint): string | UpgradeTarget | undefined {
  const inQuery = query.getAll('key');
  if (inQuery.length > 1) return refused(400, 'invalid_key', 'give ?key= once');
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  const inHeader = endpoint === 'ws' || bearer?.startsWith(CLIENT_KEY_PREFIX) ? bearer : undefined;
  if (inQuery[0] !== undefined && inHeader !== undefined && inQuery[0] !== inHeader) {
    return refused(400, 'ambiguous_credentials', 'the key in ?key= and the one in Authorization differ: give one');
  }
  return inQuery[0] ?? inHeader;
}

/** A check socket: a well-formed nonce, and at most a client key (whose bot the ready frame then names). */
function checkTarget(nonce: string, rawUrl: string, headers: IncomingHttpHeaders): UpgradeTarget {
  if (nonce === '') return refused(400, 'invalid_check_nonce', 'a check socket is /ws/check/<nonce>, the nonce 22–64 of A-Z a-z 0-9 _ -');
  const queryAt = rawUrl.indexOf('?');
  const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
  if (query.has('secret'))
    return refused(400, 'secret_not_taken', 'a check socket never takes the AppSecret; give a client key or nothing');
  const key = presentedKey(query, headers, 'ws');
  if (typeof key === 'object') return key;
  if (key !== undefined && !isClientKeyShaped(key)) return refused(401, 'invalid_key', `that is not a client key (hwk_…): ${CREATE_KEY}`);
  return { kind: 'check', nonce, key };
}

type Refused = Extract<UpgradeTarget, { kind: 'refused' }>;

function refused(status: number, error: string, message: string): Refused {
  return { kind: 'refused', status, error, message };
}
