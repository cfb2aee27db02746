import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type AuthFailureThrottle, type ProxyTrust } from '@hookway/runtime';
import type { StatusData } from './merge.ts';
import { loginPage, STATUS_PAGE, STATUS_PAGE_CSP } from './page.ts';

export interface StatusRoutesDeps {
  /** ADMIN_TOKEN; empty: the page is off and its paths answer 404. */
  readonly adminToken: string;
  /** TRUST_PROXY: the address failures count against, and whether the request came over https (Secure cookie). */
  readonly trust: ProxyTrust;
  /** Wrong tokens count here, per address, with every other failed authentication of the process. */
  readonly authFailures: AuthFailureThrottle;
  readonly data: () => Promise<StatusData>;
}

export const STATUS_COOKIE = 'hookway_status';
/** A login lasts this long; the cookie cannot be revoked other than by changing ADMIN_TOKEN. */
const COOKIE_MAX_AGE_SEC = 12 * 3600;
/** The login form's body: `token=…` and nothing more. */
const MAX_LOGIN_BODY_BYTES = 4096;

/**
 * The cookie's value: derived from ADMIN_TOKEN alone (never the token itself), so every replica behind a load
 * balancer accepts every other replica's login, and changing the token logs everyone out.
 */
export function statusCookieValue(adminToken: string): string {
  return createHmac('sha256', adminToken).update('hookway-status-cookie').digest('base64url');
}

/** Equal-time comparison of any two strings (digests first, so lengths leak nothing either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * `GET /status` (the page, or the login form), `GET /status/data` (the JSON; cookie or `Authorization: Bearer`),
 * `POST /status/login`, `POST /status/logout`. Returns false for any other path, so the caller serves it.
 */
export function createStatusRoutes(deps: StatusRoutesDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const enabled = deps.adminToken !== '';
  const cookieValue = enabled ? statusCookieValue(deps.adminToken) : '';

  const hasCookie = (req: IncomingMessage) => {
    const value = cookieOf(req, STATUS_COOKIE);
    return value !== undefined && sameSecret(value, cookieValue);
  };
  const secure = (req: IncomingMessage) => deps.trust.facts(req).proto === 'https';

  const serveData = async (req: IncomingMessage, res: ServerResponse) => {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const address = deps.trust.clientAddress(req);
      if (throttled(req, res, address)) return;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (!match || !sameSecret(match[1]!, deps.adminToken)) {
        deps.authFailures.recordFailure(address);
        return sendJson(res, 401, { error: 'invalid_token', message: 'the bearer token is not this Hookway’s ADMIN_TOKEN' }, NO_STORE);
      }
    } else if (!hasCookie(req)) {
      return sendJson(
        res,
        401,
        { error: 'unauthorized', message: 'log in at /status, or send Authorization: Bearer <ADMIN_TOKEN>' },
        { ...NO_STORE, 'www-authenticate': 'Bearer' },
      );
    }
    sendJson(res, 200, await deps.data(), { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' });
  };

  const throttled = (req: IncomingMessage, res: ServerResponse, address: string, html = false) => {
    const waitSec = deps.authFailures.retryAfterSec(address);
    if (waitSec === undefined) return false;
    const message = `too many failed logins from this address; try again in ${waitSec} s`;
    if (html)
      sendHtml(res, 429, loginPage('login', `登录尝试过多，请 ${waitSec} 秒后再试 / ${message}`), { 'retry-after': String(waitSec) });
    else sendJson(res, 429, { error: 'too_many_failures', message }, { ...NO_STORE, 'retry-after': String(waitSec) });
    // Unread bodies are not worth keeping the connection for.
    req.resume();
    return true;
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const address = deps.trust.clientAddress(req);
    if (throttled(req, res, address, true)) return;
    const body = await readSmallBody(req, MAX_LOGIN_BODY_BYTES);
    if (body === undefined)
      return sendJson(res, 413, { error: 'body_too_large', message: 'the login form is small; this body is not' }, CLOSE);
    const token = new URLSearchParams(body).get('token') ?? '';
    if (!sameSecret(token, deps.adminToken)) {
      deps.authFailures.recordFailure(address);
      return sendHtml(res, 401, loginPage('login', '令牌不正确 / Wrong token'));
    }
    res.writeHead(303, {
      location: '../status',
      'set-cookie': cookie(cookieValue, COOKIE_MAX_AGE_SEC, secure(req)),
      'cache-control': 'no-store',
    });
    res.end();
  };

  return (req, res) => {
    // Every request passes here (webhooks too): most are told apart by their first characters alone.
    if (req.url?.startsWith('/status') !== true) return false;
    const path = req.url.split('?')[0];
    if (path !== '/status' && path !== '/status/data' && path !== '/status/login' && path !== '/status/logout') return false;
    if (!enabled) {
      sendJson(res, 404, { error: 'not_found', message: 'the status page is off: set ADMIN_TOKEN to turn it on' });
      return true;
    }
    const method = path === '/status' || path === '/status/data' ? 'GET' : 'POST';
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      sendJson(res, 405, { error: 'method_not_allowed', message: `${path} answers ${method} only` }, { allow: method });
      return true;
    }
    // Another site's form (Sec-Fetch-Site, sent by every current browser): a forged logout, or wrong tokens posted
    // from the admin's browser to get the admin's own address throttled (the throttle is shared with keys and webhooks).
    const site = req.headers['sec-fetch-site'];
    if (method === 'POST' && (site === 'cross-site' || site === 'same-site')) {
      req.resume();
      sendJson(res, 403, { error: 'cross_site_refused', message: `${path} takes only the status page's own form` }, CLOSE);
      return true;
    }
    const fail = (err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_error', message: 'internal error' });
      else res.destroy(err instanceof Error ? err : undefined);
    };
    if (path === '/status') {
      if (hasCookie(req)) sendHtml(res, 200, STATUS_PAGE);
      else sendHtml(res, 200, loginPage('status/login'));
    } else if (path === '/status/data') serveData(req, res).catch(fail);
    else if (path === '/status/login') login(req, res).catch(fail);
    else {
      req.resume();
      res.writeHead(303, { location: '../status', 'set-cookie': cookie('', 0, secure(req)), 'cache-control': 'no-store' });
      res.end();
    }
    return true;
  };
}

const NO_STORE = { 'cache-control': 'no-store' };
const CLOSE = { connection: 'close' };

function cookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${STATUS_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': STATUS_PAGE_CSP,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...headers,
  });
  res.end(html);
}

/** The body as text, or undefined past `maxBytes` (the rest is not read; the connection is closed after the answer). */
async function readSmallBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
