import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, rootCertificates, type PeerCertificate } from 'node:tls';
import WebSocket from 'ws';

/**
 * The network half of `hookway check`: small probes that each answer what happened (or a failure with the error's
 * code), never throw, and give up after `timeoutMs`. What the answers mean for the user is decided in check-command.
 */

/** How the check reaches the server: the extra CA (--ca) and whether the certificate must verify. */
export interface Transport {
  /** The system's roots plus the --ca file, or undefined for the system's roots alone. */
  readonly ca: string[] | undefined;
  /** False after the TLS step failed: the other steps still run, so one report shows every problem. */
  readonly verify: boolean;
  readonly timeoutMs: number;
}

export type Failure = { readonly ok: false; readonly code: string; readonly message: string };
const failure = (err: unknown): Failure => {
  const e = err as { code?: string; message?: string };
  return { ok: false, code: e.code ?? 'ERROR', message: e.message ?? String(err) };
};

export const withRoots = (extra: string | undefined): string[] | undefined =>
  extra === undefined ? undefined : [...rootCertificates, extra];

export async function resolveHost(host: string): Promise<{ ok: true; addresses: string[]; literal: boolean } | Failure> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return { ok: true, addresses: [bare], literal: true };
  try {
    const found = await lookup(bare, { all: true });
    return { ok: true, addresses: found.map((a) => a.address), literal: false };
  } catch (err) {
    return failure(err);
  }
}

export interface TlsAnswer {
  readonly ok: true;
  /** Why the chain is not trusted (an OpenSSL code such as DEPTH_ZERO_SELF_SIGNED_CERT), or undefined. */
  readonly chainError: string | undefined;
  /** Why the certificate does not name the host, or undefined. */
  readonly hostError: string | undefined;
  readonly validTo: Date;
  readonly validFrom: Date;
  readonly subject: string;
}

/** Connects once, accepting any certificate, and reports what a verifying client (the platform) would object to. */
export function inspectTls(host: string, port: number, transport: Transport): Promise<TlsAnswer | Failure> {
  const bare = host.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: bare,
      port,
      ...(isIP(bare) ? {} : { servername: bare }),
      ...(transport.ca ? { ca: transport.ca } : {}),
      rejectUnauthorized: false,
      timeout: transport.timeoutMs,
    });
    const done = (answer: TlsAnswer | Failure) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('timeout', () => done({ ok: false, code: 'ETIMEDOUT', message: `no TLS handshake within ${transport.timeoutMs} ms` }));
    socket.once('error', (err) => done(failure(err)));
    socket.once('secureConnect', () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      const hostError = cert.raw ? checkServerIdentity(bare, cert)?.message : 'no certificate';
      const cn = cert.subject?.CN;
      const authError = socket.authorizationError as unknown as Error | string | null;
      done({
        ok: true,
        chainError: socket.authorized ? undefined : ((typeof authError === 'string' ? authError : authError?.message) ?? 'UNTRUSTED'),
        hostError,
        validTo: new Date(cert.valid_to),
        validFrom: new Date(cert.valid_from),
        subject: Array.isArray(cn) ? cn.join(', ') : (cn ?? ''),
      });
    });
  });
}

export interface HttpAnswer {
  readonly ok: true;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** This machine's clock when the answer's headers arrived. */
  readonly receivedAtMs: number;
}

/** One HTTP(S) request; at most 64 KiB of the answer is kept. */
export function httpCall(
  url: URL,
  options: { method: string; headers?: Record<string, string>; body?: string },
  transport: Transport,
): Promise<HttpAnswer | Failure> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      url,
      {
        method: options.method,
        headers: {
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        timeout: transport.timeoutMs,
        agent: false,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: transport.verify, ...(transport.ca ? { ca: transport.ca } : {}) } : {}),
      },
      (res) => {
        const receivedAtMs = Date.now();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 65_536) body += chunk;
        });
        res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body, receivedAtMs }));
        res.on('error', (err) => resolve(failure(err)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${transport.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve(failure(err)));
    req.end(options.body);
  });
}

/** What a WebSocket upgrade came to: open (with the socket), refused with an HTTP answer, or a network failure. */
export type UpgradeAnswer =
  | { readonly ok: true; readonly kind: 'open'; readonly ws: WebSocket; readonly firstFrame: Promise<string | undefined> }
  | { readonly ok: true; readonly kind: 'refused'; readonly status: number; readonly body: string }
  | Failure;

/** Upgrades `url` (ws: or wss:); on success the socket stays open for the caller, who must close it. */
export function upgrade(url: URL, headers: Record<string, string>, transport: Transport): Promise<UpgradeAnswer> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: transport.timeoutMs,
      perMessageDeflate: false,
      ...(url.protocol === 'wss:' ? { rejectUnauthorized: transport.verify, ...(transport.ca ? { ca: transport.ca } : {}) } : {}),
    });
    const firstFrame = new Promise<string | undefined>((resolveFrame) => {
      ws.once('message', (data: WebSocket.RawData) => resolveFrame(frameText(data)));
      ws.once('close', () => resolveFrame(undefined));
    });
    ws.once('open', () => resolve({ ok: true, kind: 'open', ws, firstFrame }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      res.on('end', () => {
        resolve({ ok: true, kind: 'refused', status: res.statusCode ?? 0, body });
        ws.terminate();
      });
      res.on('error', (err) => resolve(failure(err)));
    });
    ws.once('error', (err) => resolve(failure(err)));
  });
}

/** The next frame on an open socket, or undefined when it closes or `timeoutMs` passes first. */
export function nextFrame(ws: WebSocket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    timer.unref();
    const onMessage = (data: WebSocket.RawData) => finish(frameText(data));
    const onClose = () => finish(undefined);
    function finish(value: string | undefined) {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(value);
    }
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

/** A `{"error","message"}` body's fields, when it is one. */
export function problemOf(body: string): { error?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      const { error, message } = parsed as Record<string, unknown>;
      return { ...(typeof error === 'string' ? { error } : {}), ...(typeof message === 'string' ? { message } : {}) };
    }
  } catch {
    // not JSON (an nginx error page, say)
  }
  return {};
}

/** The promise's value, or undefined when `timeoutMs` passes first. */
export function within<T>(promise: Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function frameText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
