import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { BotDirectory } from '@hookway/bots';
import type { Logger } from '@hookway/runtime';

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
]);

/** The path of a request target, whether origin-form (`/users/@me`) or absolute-form (`https://host/users/@me`). */
export function targetPath(rawUrl: string): string {
  const stripped = rawUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  return stripped === '' ? '/' : stripped;
}

/**
 * Hookway as the SDK's API host: it answers the gateway discovery calls itself and forwards every other path to
 * the configured QQ hosts — never anywhere else, whatever host the request names — streaming bodies and statuses.
 */
export function createOpenApi(options: OpenApiOptions) {
  const gatewayUrl = (req: IncomingMessage): string => {
    if (options.publicUrl) return `${options.publicUrl.replace(/^http/, 'ws')}/websocket`;
    const absoluteForm = /^[a-z]+:\/\//i.test(req.url ?? '');
    if (absoluteForm) {
      // Sent through HTTPS_PROXY: the Host header names the platform, so point at the socket that reached us.
      const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
      const host = address.includes(':') ? `[${address}]` : address;
      return `ws://${host}:${req.socket.localPort}/websocket`;
    }
    const proto = String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https' ? 'wss' : 'ws';
    const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost').split(',')[0]!.trim();
    return `${proto}://${host}/websocket`;
  };

  const sendJson = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  /** `Bot <appid>.<AppSecret>` (the documented setting for legacy SDKs) becomes a real token upstream. */
  const upstreamAuthorization = async (value: string | undefined): Promise<string | undefined> => {
    const legacy = value && /^Bot\s+(\d{1,20})\.(\S+)$/.exec(value);
    if (!legacy) return value;
    const token = await options.directory.tokenForSecret(legacy[1]!, legacy[2]!).catch(() => undefined);
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
    upstream.on('error', (err) => {
      options.logger.warn({ host: target.host, err: err.message }, 'OpenAPI pass-through failed');
      if (!res.headersSent) sendJson(res, 502, { error: 'upstream_unreachable', message: `could not reach ${target.host}` });
      else res.destroy();
    });
    req.pipe(upstream);
  };

  /** Serves the request if it is an OpenAPI call; returns false for anything else. */
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = targetPath(req.url ?? '/');
    const pathname = path.split('?')[0]!;
    if (req.method === 'GET' && pathname === '/gateway') {
      sendJson(res, 200, { url: gatewayUrl(req) });
      return true;
    }
    if (req.method === 'GET' && pathname === '/gateway/bot') {
      sendJson(res, 200, {
        url: gatewayUrl(req),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 86_400_000, max_concurrency: 1 },
      });
      return true;
    }
    if (pathname === '/app/getAppAccessToken') {
      void forward(req, res, new URL(options.tokenUrl));
      return true;
    }
    // Concatenated, never resolved: whatever the path says, the host stays the configured one.
    void forward(req, res, new URL(`${options.apiBase}${path}`));
    return true;
  };
}
