import { createServer, type Server } from 'node:http';
import { MemoryBus, type Bus } from '@hookway/bus';
import { createGateway, type Gateway } from '@hookway/gateway';
import { createIngress, type Ingress } from '@hookway/ingress';
import { createHealthHandler, Lifecycle, type Config, type Logger, type Redactor } from '@hookway/runtime';

export interface RelayDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** Defaults to the in-process bus (the embedded, no-Redis mode). A bus passed in is not closed by the relay. */
  readonly bus?: Bus;
  readonly nowMs?: () => number;
}

export interface Relay {
  /** Not listening yet: `main` (or a test) calls `listen`. */
  readonly server: Server;
  readonly bus: Bus;
  readonly ingress: Ingress;
  readonly gateway: Gateway;
  /** Why `/readyz` answers 503 right now, or undefined when ready. */
  notReadyReason(): string | undefined;
  /**
   * Stops listening, answers further webhooks 503, closes clients with 1001, drops HTTP connections and closes
   * the bus it created — in that order, within the deadline.
   */
  close(deadlineMs?: number): Promise<boolean>;
}

/** Both roles on one HTTP server: webhooks and health over HTTP, raw clients over the WebSocket upgrade. */
export function createRelay(deps: RelayDeps): Relay {
  const { config, logger, redactor } = deps;
  const lifecycle = new Lifecycle(logger);
  const ownBus =
    deps.bus === undefined &&
    new MemoryBus({
      historyMaxEvents: config.historyMaxEvents,
      historyMaxAgeMs: config.historyMaxAgeSec * 1000,
      historyMaxBytes: config.historyMaxBytes,
      dedupWindowMs: config.dedupWindowSec * 1000,
      ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
    });
  if (ownBus) lifecycle.register('bus', ownBus);
  const bus = deps.bus ?? (ownBus as MemoryBus);

  const ingress = createIngress({
    bus,
    logger: logger.child({ role: 'ingress' }),
    redactor,
    maxBodyBytes: config.maxBodyBytes,
    signatureMaxSkewSec: config.signatureMaxSkewSec,
    ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
  });
  const gateway = createGateway({
    bus,
    logger: logger.child({ role: 'gateway' }),
    pingIntervalMs: config.wsPingIntervalMs,
    terminateUnresponsive: config.wsTerminateUnresponsive,
    maxClientFrameBytes: config.wsMaxClientFrameBytes,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
  });
  const health = createHealthHandler({ sources: [lifecycle, ingress, gateway] });

  const server = createServer({ keepAlive: true, keepAliveInitialDelay: config.tcpKeepaliveDelayMs }, (req, res) => {
    if (!health(req, res)) ingress.handleRequest(req, res);
  });
  server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => {
    // HTTP sockets allow half-open; destroy once the answer is flushed so a silent peer cannot pin the fd.
    if (!socket.writable) return void socket.destroy();
    socket.once('finish', () => socket.destroy());
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  lifecycle.register('http connections', {
    close: () => {
      server.closeIdleConnections();
      server.closeAllConnections();
    },
  });
  lifecycle.register('gateway', gateway);
  lifecycle.register('ingress', ingress);
  lifecycle.register('http listener', {
    close: () => {
      if (server.listening) server.close();
      server.closeIdleConnections();
    },
  });

  return {
    server,
    bus,
    ingress,
    gateway,
    notReadyReason: () =>
      [lifecycle, ingress, gateway].map((s) => s.notReadyReason()).find((r) => r !== undefined),
    close: (deadlineMs = config.shutdownTimeoutMs) => lifecycle.shutdown(deadlineMs),
  };
}
