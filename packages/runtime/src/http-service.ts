import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createHealthHandler, type HealthSource } from './health.ts';
import { refuseUpgrade } from './http-answers.ts';
import { Lifecycle, type Closeable } from './lifecycle.ts';
import type { Service } from './service.ts';

export interface HttpServiceParts {
  readonly logger: Logger;
  readonly tcpKeepaliveDelayMs: number;
  /** How long `/readyz` says 503 before anything stops, so load balancers can move traffic away. */
  readonly drainMs: number;
  readonly health: readonly HealthSource[];
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

/**
 * One HTTP server with `/healthz` and `/readyz`, request and upgrade routing, and an orderly shutdown:
 * drain → stop listening → services → remaining connections → backends, all under one deadline.
 */
export function createHttpService(parts: HttpServiceParts): HttpService {
  const lifecycle = new Lifecycle(parts.logger);
  const sources = [lifecycle, ...parts.health];
  const health = createHealthHandler({ sources });

  const server = createServer({ keepAlive: true, keepAliveInitialDelay: parts.tcpKeepaliveDelayMs }, (req, res) => {
    if (!health(req, res)) parts.handleRequest(req, res);
  });
  const handleUpgrade = parts.handleUpgrade;
  if (handleUpgrade) server.on('upgrade', handleUpgrade);
  else
    server.on('upgrade', (_req, socket: Duplex) => refuseUpgrade(socket, 404, 'not_found', 'this instance serves no WebSocket endpoint'));
  server.on('clientError', (_err, socket) => {
    // HTTP sockets allow half-open; destroy once the answer is flushed so a silent peer cannot pin the fd.
    if (!socket.writable) return void socket.destroy();
    socket.once('finish', () => socket.destroy());
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
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
    notReadyReason: () => sources.map((s) => s.notReadyReason()).find((r) => r !== undefined),
  };
}
