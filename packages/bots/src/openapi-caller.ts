import { apiCallTarget, CLIENT_KEY_PREFIX, type AppSecret, type CallError, type CallMethod } from '@hookway/protocol';
import type { BotDirectory } from './bot-directory.ts';

/** One OpenAPI call made with Hookway's own access token for a bot (a raw client's call frame). */
export interface OpenApiCallRequest {
  readonly method: CallMethod;
  /** Path and query as the client sent it; only the table's `api` paths are forwarded. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

/** The bot a call is made for: its AppSecret, and its appid when the credential named it (a client key does). */
export interface CallingBot {
  readonly appid: string | undefined;
  readonly secret: AppSecret;
}

export type OpenApiAnswer =
  | { readonly status: number; readonly body: unknown }
  | { readonly error: Exclude<CallError, 'bad_call' | 'forbidden' | 'too_many_calls'>; readonly message: string };

/** The narrow function the gateway is given: one call, one answer; it never throws. */
export type CallOpenApi = (bot: CallingBot, request: OpenApiCallRequest) => Promise<OpenApiAnswer>;

export interface OpenApiCallerOptions {
  /** Where tokens come from: the process's one token cache per bot. */
  readonly directory: Pick<BotDirectory, 'appidOf' | 'tokenForSecret' | 'tokenAfterRejection'>;
  /** QQ_API_BASE. */
  readonly apiBase: string;
  /** OPENAPI_TIMEOUT_MS: the whole call, token excluded. */
  readonly timeoutMs: number;
  /** Larger answers are refused (upstream_failed) rather than held. */
  readonly maxAnswerBytes: number;
}

/**
 * Calls the QQ OpenAPI for a bot with the access token Hookway obtains (and renews) with the AppSecret it holds:
 * `Authorization: QQBot <token>` and `X-Union-Appid`, nothing of the client's. Only the OpenAPI table's paths, only
 * to QQ_API_BASE. Every outcome is an answer: the platform's status and JSON body, or an error code and a message
 * that names the problem (never a token, a secret or a body).
 */
export function createOpenApiCaller(options: OpenApiCallerOptions): CallOpenApi {
  const base = new URL(options.apiBase);
  const send = (url: URL, appid: string, token: string, request: OpenApiCallRequest, signal: AbortSignal) =>
    sendOnce(url, appid, token, request, signal, options.maxAnswerBytes);
  return async (bot, request) => {
    const target = apiCallTarget(request.path);
    if (target === undefined) {
      return {
        error: 'path_not_allowed',
        message: 'Hookway forwards only the QQ OpenAPI paths /v2/…, /channels/…, /dms/…, /guilds/…, /interactions/…, /users/@me…',
      };
    }
    if (carriesCredential(target, bot.secret)) {
      return {
        error: 'path_not_allowed',
        message: 'this path carries a secret (the AppSecret, a secret= parameter or a client key), and Hookway never sends one upstream',
      };
    }
    const appid = bot.appid ?? (await options.directory.appidOf(bot.secret).catch(() => undefined));
    if (appid === undefined) {
      return {
        error: 'unknown_bot',
        message:
          'Hookway does not know the appid of this connection’s bot: add appid:AppSecret to BOTS (or BOTS_FILE), or let a webhook with X-Bot-Appid teach it',
      };
    }
    const token = await options.directory.tokenForSecret(appid, bot.secret).catch(() => undefined);
    if (token === undefined) {
      return {
        error: 'unknown_bot',
        message: `no access token for appid ${appid}: the platform refused its AppSecret or could not be reached; check BOTS and try again`,
      };
    }
    const url = new URL(base);
    const queryAt = target.indexOf('?');
    url.pathname = `${base.pathname.replace(/\/$/, '')}${queryAt === -1 ? target : target.slice(0, queryAt)}`;
    url.search = queryAt === -1 ? '' : target.slice(queryAt);
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      let answer = await send(url, appid, token, request, signal);
      if (tokenRejected(answer)) {
        // The platform no longer takes our token (renewed elsewhere, revoked): one retry with a fresh one.
        const fresh = await options.directory.tokenAfterRejection(appid, bot.secret, token);
        if (fresh !== undefined) answer = await send(url, appid, fresh, request, signal);
      }
      return answer;
    } catch {
      if (signal.aborted) return { error: 'upstream_timeout', message: `the platform did not answer within ${options.timeoutMs} ms` };
      return { error: 'upstream_failed', message: `could not reach ${base.host}` };
    }
  };
}

/** Whether a call's path and query hold the connection's AppSecret (as sent or decoded), a `secret` parameter or a client key. */
function carriesCredential(target: string, secret: AppSecret): boolean {
  const queryAt = target.indexOf('?');
  if (queryAt !== -1) {
    for (const name of new URLSearchParams(target.slice(queryAt + 1)).keys()) if (name.trim().toLowerCase() === 'secret') return true;
  }
  let decoded = target;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    // Not percent-decodable: the text as sent is all there is to look at.
  }
  return [target, decoded].some((form) => form.includes(secret.reveal()) || form.includes(CLIENT_KEY_PREFIX));
}

/** One request upstream with this token; a body past `maxAnswerBytes` is an error answer. */
async function sendOnce(
  url: URL,
  appid: string,
  token: string,
  request: OpenApiCallRequest,
  signal: AbortSignal,
  maxAnswerBytes: number,
): Promise<OpenApiAnswer> {
  const headers: Record<string, string> = { authorization: `QQBot ${token}`, 'x-union-appid': appid, accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: request.method,
    headers,
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    signal,
    redirect: 'manual',
  });
  const text = await readBounded(res, maxAnswerBytes);
  if (text === undefined) return { error: 'upstream_failed', message: `the platform's answer was larger than ${maxAnswerBytes} bytes` };
  return { status: res.status, body: parseBody(text) };
}

/** 401 with code 11244: "token not exist or expire" (qq-protocol §5.2). */
function tokenRejected(answer: OpenApiAnswer): boolean {
  return 'status' in answer && answer.status === 401 && (answer.body as { code?: unknown } | null)?.code === 11244;
}

/** The body as text, or undefined once it grows past `max` bytes (the rest is not read). */
async function readBounded(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop cancels the rest of the body.
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON as JSON; an empty body (204) as null; anything else as the text it is. */
function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
