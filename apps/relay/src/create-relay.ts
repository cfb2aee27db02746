import type { Server } from 'node:http';
import { historyLimits, MemoryBus, type Bus } from '@hookway/bus';
import { directoryFromConfig } from '@hookway/bots';
import { createGateway, gatewayDeps, type Gateway } from '@hookway/gateway';
import { createIngress, ingressDeps, type Ingress } from '@hookway/ingress';
import { createHttpService, type Config, type HealthSource, type Logger, type Redactor } from '@hookway/runtime';

export interface RelayDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** Defaults to a new in-process bus (the embedded, no-Redis mode). */
  readonly bus?: Bus;
  /** Whether closing the relay closes the bus: by default only a bus the relay created itself. */
  readonly closeBus?: boolean;
  /** Extra readiness and counters for the health endpoints (e.g. the Redis connection). */
  readonly busHealth?: HealthSource;
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
   * Drains, stops listening, answers further webhooks 503, closes clients with 1001 in batches, drops HTTP
   * connections and closes the bus if it owns it — in that order, within the deadline.
   */
  close(deadlineMs?: number): Promise<boolean>;
}

/** Both roles on one HTTP server: webhooks and health over HTTP, raw clients over the WebSocket upgrade. */
export function createRelay(deps: RelayDeps): Relay {
  const { config, logger, redactor } = deps;
  const bus = deps.bus ?? new MemoryBus({ ...historyLimits(config), ...(deps.nowMs ? { nowMs: deps.nowMs } : {}) });
  const closeBus = deps.closeBus ?? deps.bus === undefined;

  // One directory for both roles: one token cache per bot in this process.
  const directory = directoryFromConfig(config, bus, (value) => redactor.remember(value));
  const ingress = createIngress({
    ...ingressDeps(config, logger.child({ role: 'ingress' }), redactor, { bus }, directory),
    ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
  });
  const gateway = createGateway(gatewayDeps(config, logger.child({ role: 'gateway' }), redactor, { bus }, directory));
  const service = createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    health: [...(deps.busHealth ? [deps.busHealth] : []), ingress, gateway],
    handleRequest: ingress.handleRequest,
    handleUpgrade: gateway.handleUpgrade,
    services: [
      { name: 'ingress', resource: ingress },
      { name: 'gateway', resource: gateway },
    ],
    backends: closeBus ? [{ name: 'bus', resource: bus }] : [],
  });

  return {
    server: service.server,
    bus,
    ingress,
    gateway,
    notReadyReason: service.notReadyReason,
    close: (deadlineMs = config.shutdownTimeoutMs) => service.close(deadlineMs),
  };
}
