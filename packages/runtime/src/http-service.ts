import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createHealthHandler, type HealthSource } from './health.ts';
import { answerOnSocket, refuseUpgrade } from './http-answers.ts';
import { Lifecycle, type Closeable } from './lifecycle.ts';
import { createMetricsHandler, type MetricsAccess } from './metrics-endpoint.ts';
import type { Metrics } from './metrics.ts';
import type { Service } from './service.ts';

/** What one process's HTTP server lets a peer hold before it has proved anything. */
export interface HttpLimits {
  /** HTTP_HEADERS_TIMEOUT_MS: node's server.headersTimeout. */
  readonly headersTimeoutMs: number;
  /** HTTP_BODY_TIMEOUT_MS: node's server.requestTimeout (headers and body, from the request's start). */
  readonly requestTimeoutMs: number;
  /** MAX_CONNECTIONS: node's server.maxConnections (HTTP and WebSocket alike). */
  readonly maxConnections: number;
}

export const httpLimits = (config: Pick<Config, 'httpHeadersTimeoutMs' | 'httpBodyTimeoutMs' | 'maxConnections'>): HttpLimits => ({
  headersTimeoutMs: config.httpHeadersTimeoutMs,
  requestTimeoutMs: config.httpBodyTimeoutMs,
  maxConnections: config.maxConnections,
});

/** The settings' defaults (5 s, 10 s, 10 000), for a service built without its own. */
const DEFAULT_LIMITS: HttpLimits = { headersTimeoutMs: 5000, requestTimeoutMs: 10_000, maxConnections: 10_000 };

/**
 * How often node looks for requests past their timeouts. Its default, 30 s, would let a 5 s header timeout run to
 * 35 s; a quarter of a second keeps every timeout within 250 ms of its setting, and the check walks only the
 * connections with a request in progress.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 250;

/** Sets the limits on a server (before or after it listens; the timeout checker runs from `listening` on). */
export function applyHttpLimits(server: Server, limits: HttpLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
}

export interface HttpServiceParts {
  readonly logger: Logger;
  readonly tcpKeepaliveDelayMs: number;
  /** How long `/readyz` says 503 before anything stops, so load balancers can move traffic away. */
  readonly drainMs: number;
  /** Timeouts and the connection cap; the settings' defaults when omitted (runService applies the process's settings). */
  readonly limits?: HttpLimits;
  readonly health: readonly HealthSource[];
  /** `GET /metrics` for this service's registry, answered to those `access` allows (METRICS_TOKEN, loopback). */
  readonly metrics?: { readonly metrics: Metrics; readonly access: MetricsAccess };
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly handleUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Stopped right after the listener, in this order (e.g. ingress, then gateway). */
  readonly services: readonly { name: string; resource: Closeable }[];
  /** Closed last, after the HTTP connections (e.g. the bus the services used). */
  readonly backends: readonly { name: string; resource: Closeable }[];
}

export interface HttpService extends Service {
  readonly notReadyReason: () => string | undefined;
}

export type HttpStats = {
  /** Connections closed on arrival because MAX_CONNECTIONS were open. */
  httpConnectionsRefused: number;
  /** Requests whose headers or body did not arrive in time (408). */
  httpRequestsTimedOut: number;
  /** Requests the HTTP parser refused (400, or 431 for oversized headers). */
  httpRequestsMalformed: number;
};

/**
 * One HTTP server with `/healthz` and `/readyz`, request and upgrade routing, bounded work per peer (header and
 * body timeouts, a connection cap) and an orderly shutdown: drain → stop listening → services → remaining
 * connections → backends, all under one deadline.
 */
export function createHttpService(parts: HttpServiceParts): HttpService {
  const lifecycle = new Lifecycle(parts.logger);
  const counts: HttpStats = { httpConnectionsRefused: 0, httpRequestsTimedOut: 0, httpRequestsMalformed: 0 };
  const sources = [lifecycle, ...parts.health];
  const health = createHealthHandler({
    sources: [...sources, { notReadyReason: () => undefined, stats: () => ({ ...counts }) }],
  });

  const notReadyReason = () => sources.map((s) => s.notReadyReason()).find((r) => r !== undefined);
  parts.metrics?.metrics.watchReadiness(() => notReadyReason() === undefined);
  const metrics = parts.metrics ? createMetricsHandler(parts.metrics.metrics, parts.metrics.access) : () => false;

  const server = createServer(
    { keepAlive: true, keepAliveInitialDelay: parts.tcpKeepaliveDelayMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    (req, res) => {
      if (!health(req, res) && !metrics(req, res)) parts.handleRequest(req, res);
    },
  );
  applyHttpLimits(server, parts.limits ?? DEFAULT_LIMITS);
  server.on('drop', () => counts.httpConnectionsRefused++);
  const handleUpgrade = parts.handleUpgrade;
  if (handleUpgrade) server.on('upgrade', handleUpgrade);
  else
    server.on('upgrade', (_req, socket: Duplex) => refuseUpgrade(socket, 404, 'not_found', 'this instance serves no WebSocket endpoint'));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timedOut) counts.httpRequestsTimedOut++;
    else if (err.code?.startsWith('HPE_')) counts.httpRequestsMalformed++;
    // A response already under way (or a peer gone) cannot be given another status line.
    const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (!socket.writable || answering) return void socket.destroy();
    // HTTP sockets allow half-open; answerOnSocket destroys once the answer is flushed so a silent peer cannot pin the fd.
    if (timedOut)
      answerOnSocket(
        socket,
        408,
        'request_timeout',
        'the request did not arrive in time (HTTP_HEADERS_TIMEOUT_MS for the headers, HTTP_BODY_TIMEOUT_MS for all of it)',
      );
    else if (err.code === 'HPE_HEADER_OVERFLOW') answerOnSocket(socket, 431, 'headers_too_large', 'the request headers are too large');
    else answerOnSocket(socket, 400, 'bad_request', 'the request is not valid HTTP/1.1');
  });

  for (const { name, resource } of [...parts.backends].reverse()) lifecycle.register(name, resource);
  lifecycle.register('http connections', {
    close: () => {
      server.closeIdleConnections();
      server.closeAllConnections();
    },
  });
  for (const { name, resource } of [...parts.services].reverse()) lifecycle.register(name, resource);
  lifecycle.register('http listener', {
    close: () => {
      if (server.listening) server.close();
      server.closeIdleConnections();
    },
  });
  lifecycle.register('drain', {
    close: () => (parts.drainMs > 0 ? new Promise<void>((r) => setTimeout(r, parts.drainMs).unref()) : undefined),
  });

  return {
    server,
    close: (deadlineMs) => lifecycle.shutdown(deadlineMs),
    notReadyReason,
  };
}
