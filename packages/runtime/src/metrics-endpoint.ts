import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { sendJson } from './http-answers.ts';
import type { Metrics } from './metrics.ts';
import type { Config } from './config.ts';
import { createProxyTrust, type ProxyTrust } from './proxy-trust.ts';

/** Who may read `GET /metrics`. */
export interface MetricsAccess {
  /** METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required; when empty, only loopback requests are answered. */
  readonly token: string;
  /** TRUST_PROXY: whether a proxy's word on the real client is believed. */
  readonly trust: ProxyTrust;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const unmapped = (address: string) => address.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
const isLoopback = (address: string) => {
  const a = unmapped(address);
  const family = isIP(a);
  return family !== 0 && loopback.check(a, family === 6 ? 'ipv6' : 'ipv4');
};

/** The `for=` addresses of a Forwarded header (RFC 7239), quotes, brackets and ports removed. */
function forwardedFor(value: string): string[] {
  return [...value.matchAll(/for\s*=\s*("?)\[?([^\]",;]+)\]?(?::\d+)?\1/gi)].map((m) => m[2]!.replace(/:\d+$/, ''));
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/**
 * Whether a request comes from this machine. The socket's peer must be loopback; and a request that carries proxy
 * headers (X-Forwarded-For, X-Real-IP, Forwarded) is a proxy's — behind a local nginx every request comes from
 * loopback — so it counts only when TRUST_PROXY trusts that peer and every address the proxy names is loopback too.
 */
export function isLoopbackRequest(
  request: { readonly remoteAddress: string | undefined; readonly headers: IncomingHttpHeaders },
  trust: ProxyTrust,
): boolean {
  const peer = request.remoteAddress ?? '';
  if (!isLoopback(peer)) return false;
  const xff = one(request.headers['x-forwarded-for']);
  const realIp = one(request.headers['x-real-ip']);
  const forwarded = one(request.headers.forwarded);
  if (xff === undefined && realIp === undefined && forwarded === undefined) return true;
  // The proxy's word is believed only from a trusted peer; anyone else's headers say nothing about the client.
  if (!trust.trusts(peer)) return false;
  const named = [
    ...(xff ?? '').split(','),
    ...(realIp ?? '').split(','),
    ...(forwarded !== undefined ? forwardedFor(forwarded) : []),
  ].filter((a) => a.trim() !== '');
  if (forwarded !== undefined && forwardedFor(forwarded).length === 0) return false;
  return named.every(isLoopback);
}

/** The token check: constant time whatever the lengths (both sides hashed first). */
function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const given = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

/** Answers `GET /metrics` (Prometheus text) for those `access` allows; returns false for every other request. */
export function createMetricsHandler(metrics: Metrics, access: MetricsAccess): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if ((req.url ?? '').split('?')[0] !== '/metrics') return false;
    if (access.token !== '') {
      if (!bearerMatches(req.headers.authorization, access.token)) {
        sendJson(
          res,
          401,
          { error: 'metrics_unauthorized', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' },
          { 'www-authenticate': 'Bearer realm="hookway metrics"', 'cache-control': 'no-store' },
        );
        return true;
      }
    } else if (!isLoopbackRequest({ remoteAddress: req.socket.remoteAddress, headers: req.headers }, access.trust)) {
      sendJson(
        res,
        403,
        {
          error: 'metrics_forbidden',
          message:
            'GET /metrics answers only requests from this machine; set METRICS_TOKEN and send Authorization: Bearer <token> to scrape it from elsewhere',
        },
        { 'cache-control': 'no-store' },
      );
      return true;
    }
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', message: 'metrics could not be collected' });
      },
    );
    return true;
  };
}

/** Who may read /metrics, from the settings (METRICS_TOKEN, TRUST_PROXY). */
export const metricsAccess = (config: Pick<Config, 'metricsToken' | 'trustProxy'>): MetricsAccess => ({
  token: config.metricsToken,
  trust: createProxyTrust(config.trustProxy),
});
