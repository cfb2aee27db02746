import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BotDirectory } from '@hookway/bots';
import { lookUpClientKey, readOnlyAllows, type ClientKeyStore } from '@hookway/keys';
import { AppSecret, CLIENT_KEY_PREFIX, parseGatewayToken, stripAbsoluteForm } from '@hookway/protocol';
import { sendJson, type AuthFailureThrottle, type Logger, type ProxyTrust } from '@hookway/runtime';
import { carriesSecret, openApiPath } from './routes.ts';

export interface OpenApiOptions {
  /** Upstream OpenAPI, e.g. https://api.sgroup.qq.com. */
  readonly apiBase: string;
  /** Upstream token URL, e.g. https://bots.qq.com/app/getAppAccessToken. */
  readonly tokenUrl: string;
  /** How clients reach Hookway (for GET /gateway); '' derives it from the request. */
  readonly publicUrl: string;
  /** OPENAPI_PROXY: false forwards nothing (gateway discovery is still answered). */
  readonly forward: boolean;
  readonly directory: BotDirectory;
  /** TRUST_PROXY: whose X-Forwarded-Host/-Proto (and client address) are believed. */
  readonly trust: ProxyTrust;
  readonly logger: Logger;
  /** OPENAPI_TIMEOUT_MS: how long a forward may wait for the platform's answer (30 s when absent). */
  readonly timeoutMs?: number;
  /** Client keys: `Authorization: Bearer <client key>` is forwarded with Hookway's token for the key's bot. Absent: no such form. */
  readonly keys?: ClientKeyStore;
  /** Wrong keys count as failed authentications of the client's address (the gateway's throttle, shared in the relay). */
  readonly authFailures?: AuthFailureThrottle;
  readonly nowMs?: () => number;
  /** Hookway's own tokens (ADMIN_TOKEN, METRICS_TOKEN): a request carrying one anywhere is refused, never forwarded. */
  readonly neverForward?: readonly string[];
  /** Told each forwarded request's upstream status (undefined: upstream could not be reached), for the metrics. */
  readonly onAnswered?: (status: number | undefined) => void;
}

export type OpenApiStats = {
  openApiForwarded: number;
  openApiForwardsFailed: number;
  /** Refused because the URL carried a secret, or a known AppSecret could not be swapped for a token. */
  openApiSecretsRefused: number;
  /** OpenAPI paths asked of a Hookway with OPENAPI_PROXY=false. */
  openApiDisabled: number;
};

export interface OpenApi {
  /** Serves the request if its path is in the OpenAPI table (routes.ts); returns false for anything else. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  stats(): OpenApiStats;
}

/** A forward that must not happen: answered with this status and error, nothing sent upstream. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  // Hookway's own business, not the platform's: never forwarded upstream.
  'cookie',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'forwarded',
]);

/**
 * The path and query of a request target, whether origin-form (`/users/@me`) or absolute-form
 * (`https://host/users/@me`); undefined for anything else (`*@host/…`, `//host/…`), which is never forwarded.
 */
export function targetPath(rawUrl: string): string | undefined {
  const stripped = stripAbsoluteForm(rawUrl);
  const path = stripped === '' ? '/' : stripped;
  return path.startsWith('/') && !path.startsWith('//') && !/[\\\s]/.test(path) ? path : undefined;
}

/** A request path and query, parsed (dot segments resolved) against a placeholder origin. */
export function parseTarget(path: string): URL {
  return new URL(path, 'http://hookway.invalid');
}

/** The upstream URL for a request: the configured origin with its path and query; undefined if it would leave it. */
export function upstreamUrl(base: URL, request: URL): URL | undefined {
  // `/x/..//h` normalises to `//h`: still the configured host, but refused like any other `//` path.
  if (request.pathname.startsWith('//')) return undefined;
  const target = new URL(base);
  target.pathname = `${base.pathname.replace(/\/$/, '')}${request.pathname}`;
  target.search = request.search;
  return target.origin === base.origin ? target : undefined;
}

/**
 * Hookway as the SDK's API host: it answers the gateway discovery calls itself and forwards the documented OpenAPI
 * paths (routes.ts) to the configured QQ hosts — never anywhere else, whatever host the request names, never with a
 * secret in the URL — streaming bodies and statuses. Other paths are not its business (the ingress answers 404).
 */
export function createOpenApi(options: OpenApiOptions): OpenApi {
  const apiBase = new URL(options.apiBase);
  const tokenUrl = new URL(options.tokenUrl);
  const log = options.logger;
  const counts: OpenApiStats = { openApiForwarded: 0, openApiForwardsFailed: 0, openApiSecretsRefused: 0, openApiDisabled: 0 };

  const gatewayUrl = (req: IncomingMessage): string | undefined => {
    if (options.publicUrl) return `${options.publicUrl.replace(/^http/, 'ws')}/websocket`;
    const absoluteForm = /^[a-z]+:\/\//i.test(req.url ?? '');
    if (absoluteForm) {
      // Sent through HTTPS_PROXY: the Host header names the platform, so point at the socket that reached us.
      const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
      const host = address.includes(':') ? `[${address}]` : address;
      return `ws://${host}:${req.socket.localPort}/websocket`;
    }
    // X-Forwarded-Proto/-Host only from a TRUST_PROXY address: anyone else would name their own host.
    const facts = options.trust.facts(req);
    const host = facts.host ?? 'localhost';
    // A proxy in front may have turned an HTTPS_PROXY request into origin-form with the platform's Host: never send
    // the SDK to the real gateway.
    if (/(^|\.)qq\.com(:\d+)?$/i.test(host)) return undefined;
    return `${facts.proto === 'https' ? 'wss' : 'ws'}://${host}/websocket`;
  };

  /**
   * `Bot <appid>.<AppSecret>` (the documented setting for legacy SDKs) becomes a real token upstream. A known AppSecret
   * that cannot be swapped is refused rather than sent; anything else (a legacy bot token, `QQBot <token>`) passes.
   */
  const upstreamAuthorization = async (value: string | undefined, known: readonly AppSecret[]): Promise<string | undefined> => {
    const credential = value?.startsWith('Bot ') ? parseGatewayToken(value) : undefined;
    const secret = credential?.kind === 'bot_token' ? AppSecret.parse(credential.token) : undefined;
    if (credential?.kind !== 'bot_token' || !secret) return value;
    const token = await options.directory.tokenForSecret(credential.appid, secret).catch(() => undefined);
    if (token) return `QQBot ${token}`;
    if (known.some((k) => k.equals(secret))) {
      throw new Refusal(
        502,
        'token_unavailable',
        `no access token could be obtained for appid ${credential.appid}, and Hookway never sends an AppSecret upstream; try again later`,
      );
    }
    return value;
  };

  /**
   * `Authorization: Bearer <client key>`: the key's bot's token and appid, in place of the key (which never goes
   * upstream). Undefined for any other Authorization. Refused: a key that is unknown, revoked or expired (401), of a
   * bot Hookway does not know (401), read-only on a method that acts (403), or sent to the token path (400).
   */
  const keyAuthorization = async (req: IncomingMessage, route: 'token' | 'api') => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !bearer.startsWith(CLIENT_KEY_PREFIX)) return undefined;
    if (route === 'token') {
      throw new Refusal(
        400,
        'key_not_for_token',
        'with a client key there is no token to fetch: call the API paths, and Hookway adds its token',
      );
    }
    const { keys, authFailures } = options;
    const address = options.trust.clientAddress(req);
    // Before any lookup: an address that keeps guessing costs almost nothing.
    const retryAfter = authFailures?.retryAfterSec(address);
    if (retryAfter !== undefined) {
      throw new Refusal(429, 'too_many_failures', `too many failed authentications from this address; try again in ${retryAfter} s`);
    }
    if (!keys) throw new Refusal(401, 'invalid_key', 'client keys are not accepted here');
    let found;
    try {
      found = await lookUpClientKey(keys, bearer, (options.nowMs ?? Date.now)());
    } catch {
      throw new Refusal(503, 'keys_unavailable', 'client keys cannot be checked right now; try again shortly');
    }
    if (!found.ok) {
      authFailures?.recordFailure(address);
      throw new Refusal(401, found.error, found.message);
    }
    const { record } = found;
    if (record.readOnly && !readOnlyAllows(req.method ?? 'GET')) {
      throw new Refusal(403, 'forbidden', `the client key "${record.name}" is read-only: GET requests only`);
    }
    const secret = (await options.directory.bots()).get(record.appid);
    if (!secret) {
      throw new Refusal(401, 'unknown_bot', `the client key "${record.name}" is for bot ${record.appid}, which this Hookway does not know`);
    }
    const token = await options.directory.tokenForSecret(record.appid, secret).catch(() => undefined);
    if (token === undefined) {
      throw new Refusal(502, 'token_unavailable', `no access token could be obtained for appid ${record.appid}; try again later`);
    }
    return { authorization: `QQBot ${token}`, appid: record.appid };
  };

  const forward = async (req: IncomingMessage, res: ServerResponse, target: URL, pathAndQuery: string, route: 'token' | 'api') => {
    const viaKey = await keyAuthorization(req, route);
    // A client key in any other form (`QQBot hwk_…`, a Bearer with more after it, another header, the query) would
    // otherwise go upstream as sent; the Bearer a key was found in is replaced below.
    const sent = [
      pathAndQuery,
      ...Object.entries(req.headers).flatMap(([name, value]) => (viaKey && name === 'authorization' ? [] : [value ?? '']).flat()),
    ];
    if (sent.some((value) => value.includes(CLIENT_KEY_PREFIX))) {
      throw new Refusal(
        401,
        'invalid_key',
        'a client key goes only in Authorization: Bearer <client key>, alone; Hookway never forwards one upstream',
      );
    }
    const own = (options.neverForward ?? []).filter((t) => t !== '');
    if (own.length > 0) {
      if (own.some((t) => sent.some((value) => value.includes(t)))) {
        throw new Refusal(
          400,
          'token_not_forwarded',
          'this request carries a Hookway token (ADMIN_TOKEN or METRICS_TOKEN), which never goes upstream',
        );
      }
    }
    const known = [...(await options.directory.bots()).values()];
    if (carriesSecret(pathAndQuery, known)) {
      throw new Refusal(
        400,
        'secret_in_url',
        'this request carries a secret in its URL, and Hookway never forwards one: the OpenAPI takes Authorization: QQBot <access token> (or Bot <appid>.<AppSecret>, swapped for a token here)',
      );
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    if (viaKey) {
      headers.authorization = viaKey.authorization;
      headers['x-union-appid'] = viaKey.appid;
    } else {
      const authorization = await upstreamAuthorization(req.headers.authorization, known);
      if (authorization !== undefined) headers.authorization = authorization;
    }
    // A token request is a few bytes of JSON: read first, so a client key given as clientSecret (an SDK configured
    // with the key for its secret) is refused here instead of being posted to the platform.
    let tokenBody: Buffer | undefined;
    if (route === 'token') {
      tokenBody = await readTokenBody(req);
      if (tokenBody === undefined) throw new Refusal(413, 'body_too_large', `a token request is at most ${MAX_TOKEN_BODY_BYTES} bytes`);
      if (tokenBody.includes(CLIENT_KEY_PREFIX)) {
        throw new Refusal(
          400,
          'key_not_for_token',
          'a client key is not an AppSecret: with a key there is no token to fetch; call the API paths with Authorization: Bearer <client key>, and Hookway adds its token',
        );
      }
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    counts.openApiForwarded++;
    const upstream = send(target, { method: req.method, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      options.onAnswered?.(answer.statusCode);
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.setTimeout(options.timeoutMs ?? 30_000, () => upstream.destroy(new Error('upstream timed out')));
    // The client went away before the answer was complete: stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', (err) => {
      counts.openApiForwardsFailed++;
      if (!res.headersSent) options.onAnswered?.(undefined);
      // The path only (the query may hold ids a user did not mean to log); the logger redacts any secret left.
      log.warn(
        { method: req.method, path: target.pathname, host: target.host, client: options.trust.clientAddress(req), err: err.message },
        'OpenAPI pass-through failed',
      );
      if (!res.headersSent) sendJson(res, 502, { error: 'upstream_unreachable', message: `could not reach ${target.host}` });
      else res.destroy();
    });
    if (tokenBody !== undefined) upstream.end(tokenBody);
    else req.pipe(upstream);
  };

  /** Starts a forward; a refusal is answered, anything else it throws is logged and answered 502, never left unhandled. */
  const startForward = (req: IncomingMessage, res: ServerResponse, target: URL, pathAndQuery: string, route: 'token' | 'api') => {
    forward(req, res, target, pathAndQuery, route).catch((err: unknown) => {
      if (err instanceof Refusal) {
        counts.openApiSecretsRefused++;
        log.warn({ method: req.method, client: options.trust.clientAddress(req), refused: err.error }, 'OpenAPI request not forwarded');
        req.resume();
        if (!res.headersSent) sendJson(res, err.status, { error: err.error, message: err.message }, { connection: 'close' });
        return;
      }
      counts.openApiForwardsFailed++;
      log.error({ err }, 'OpenAPI pass-through failed unexpectedly');
      if (!res.headersSent) sendJson(res, 502, { error: 'upstream_failed', message: 'the request could not be forwarded' });
      else res.destroy();
    });
  };

  const serve = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = targetPath(req.url ?? '/');
    if (path === undefined) return false;
    // Route on the normalised path, so `/gateway/../app/getAppAccessToken` is what it says.
    const request = parseTarget(path);
    const entry = openApiPath(request.pathname);
    if (!entry) return false;
    if (entry.method !== undefined && req.method !== entry.method && !(entry.method === 'GET' && req.method === 'HEAD')) {
      sendJson(
        res,
        405,
        { error: 'method_not_allowed', message: `${entry.path} takes ${entry.method} only` },
        { allow: entry.method === 'GET' ? 'GET, HEAD' : entry.method },
      );
      return true;
    }
    if (entry.route === 'discovery') {
      const url = gatewayUrl(req);
      if (url === undefined) {
        log.warn('GET /gateway arrived with the platform as Host (an HTTPS_PROXY SDK behind a proxy): set PUBLIC_URL');
        sendJson(res, 503, { error: 'public_url_required', message: 'set PUBLIC_URL so Hookway can tell SDKs where its gateway is' });
      } else if (entry.path === '/gateway') sendJson(res, 200, { url });
      else
        sendJson(res, 200, {
          url,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
        });
      return true;
    }
    if (!options.forward) {
      counts.openApiDisabled++;
      sendJson(res, 404, {
        error: 'openapi_proxy_disabled',
        message: `this Hookway does not forward the QQ OpenAPI (OPENAPI_PROXY=false); call ${apiBase.origin} directly`,
      });
      return true;
    }
    if (entry.route === 'token') {
      startForward(req, res, tokenUrl, path, 'token');
      return true;
    }
    // Only the path and query come from the request: the scheme, host and port are always the configured ones.
    const target = upstreamUrl(apiBase, request);
    if (!target) return false;
    startForward(req, res, target, path, 'api');
    return true;
  };

  return { serve, stats: () => ({ ...counts }) };
}

/** Longest token request body forwarded (`{"appId":"…","clientSecret":"…"}` is under 200 bytes). */
const MAX_TOKEN_BODY_BYTES = 16 * 1024;

/** The whole body, or undefined once it grows past MAX_TOKEN_BODY_BYTES (the rest is not read). */
async function readTokenBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TOKEN_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
