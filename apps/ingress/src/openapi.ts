import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BotDirectory } from '@hookway/bots';
import { AppSecret, parseGatewayToken, stripAbsoluteForm } from '@hookway/protocol';
import { sendJson, type Logger } from '@hookway/runtime';

export interface OpenApiOptions {
  /** Upstream OpenAPI, e.g. https://api.sgroup.qq.com. */
  readonly apiBase: string;
  /** Upstream token URL, e.g. https://bots.qq.com/app/getAppAccessToken. */
  readonly tokenUrl: string;
  /** How clients reach Hookway (for GET /gateway); '' derives it from the request. */
  readonly publicUrl: string;
  readonly directory: BotDirectory;
  readonly logger: Logger;
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
 * Hookway as the SDK's API host: it answers the gateway discovery calls itself and forwards every other path to
 * the configured QQ hosts — never anywhere else, whatever host the request names — streaming bodies and statuses.
 */
export function createOpenApi(options: OpenApiOptions) {
  const apiBase = new URL(options.apiBase);
  const tokenUrl = new URL(options.tokenUrl);
  const gatewayUrl = (req: IncomingMessage): string | undefined => {
    if (options.publicUrl) return `${options.publicUrl.replace(/^http/, 'ws')}/websocket`;
    const absoluteForm = /^[a-z]+:\/\//i.test(req.url ?? '');
    if (absoluteForm) {
      // Sent through HTTPS_PROXY: the Host header names the platform, so point at the socket that reached us.
      const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
      const host = address.includes(':') ? `[${address}]` : address;
      return `ws://${host}:${req.socket.localPort}/websocket`;
    }
    const proto =
      String(req.headers['x-forwarded-proto'] ?? '')
        .split(',')[0]
        ?.trim() === 'https'
        ? 'wss'
        : 'ws';
    const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost')
      .split(',')[0]!
      .trim();
    // A proxy in front may have turned an HTTPS_PROXY request into origin-form with the platform's Host: never send
    // the SDK to the real gateway.
    if (/(^|\.)qq\.com(:\d+)?$/i.test(host)) return undefined;
    return `${proto}://${host}/websocket`;
  };

  /** `Bot <appid>.<AppSecret>` (the documented setting for legacy SDKs) becomes a real token upstream. */
  const upstreamAuthorization = async (value: string | undefined): Promise<string | undefined> => {
    const credential = value?.startsWith('Bot ') ? parseGatewayToken(value) : undefined;
    const secret = credential?.kind === 'bot_token' ? AppSecret.parse(credential.token) : undefined;
    if (credential?.kind !== 'bot_token' || !secret) return value;
    const token = await options.directory.tokenForSecret(credential.appid, secret).catch(() => undefined);
    return token ? `QQBot ${token}` : value;
  };

  const forward = async (req: IncomingMessage, res: ServerResponse, target: URL) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const authorization = await upstreamAuthorization(req.headers.authorization);
    if (authorization !== undefined) headers.authorization = authorization;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: req.method, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.setTimeout(30_000, () => upstream.destroy(new Error('upstream timed out')));
    // The client went away before the answer was complete: stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', (err) => {
      options.logger.warn({ host: target.host, err: err.message }, 'OpenAPI pass-through failed');
      if (!res.headersSent) sendJson(res, 502, { error: 'upstream_unreachable', message: `could not reach ${target.host}` });
      else res.destroy();
    });
    req.pipe(upstream);
  };

  /** Starts a forward; anything it throws is logged and answered 502, never left as an unhandled rejection. */
  const startForward = (req: IncomingMessage, res: ServerResponse, target: URL) => {
    forward(req, res, target).catch((err: unknown) => {
      options.logger.error({ err }, 'OpenAPI pass-through failed unexpectedly');
      if (!res.headersSent) sendJson(res, 502, { error: 'upstream_failed', message: 'the request could not be forwarded' });
      else res.destroy();
    });
  };

  /** Serves the request if it is an OpenAPI call; returns false for anything else. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = targetPath(req.url ?? '/');
    if (path === undefined) {
      sendJson(res, 400, { error: 'bad_target', message: 'the request target must be a path (or an absolute http(s) URL)' });
      return true;
    }
    // Route on the normalised path, so `/gateway/../app/getAppAccessToken` is what it says.
    const request = parseTarget(path);
    const pathname = request.pathname;
    const discovery = req.method === 'GET' && (pathname === '/gateway' || pathname === '/gateway/bot');
    const url = discovery ? gatewayUrl(req) : undefined;
    if (discovery && url === undefined) {
      options.logger.warn('GET /gateway arrived with the platform as Host (an HTTPS_PROXY SDK behind a proxy): set PUBLIC_URL');
      sendJson(res, 503, { error: 'public_url_required', message: 'set PUBLIC_URL so Hookway can tell SDKs where its gateway is' });
      return true;
    }
    if (req.method === 'GET' && pathname === '/gateway') {
      sendJson(res, 200, { url });
      return true;
    }
    if (req.method === 'GET' && pathname === '/gateway/bot') {
      sendJson(res, 200, {
        url,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
      });
      return true;
    }
    if (pathname === '/app/getAppAccessToken') {
      startForward(req, res, tokenUrl);
      return true;
    }
    // Only the path and query come from the request: the scheme, host and port are always the configured ones.
    const target = upstreamUrl(apiBase, request);
    if (!target) {
      sendJson(res, 400, { error: 'bad_target', message: 'that path cannot be forwarded' });
      return true;
    }
    startForward(req, res, target);
    return true;
  };
}
