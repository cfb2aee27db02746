import type { Server } from 'node:http';
import {
  directoryFromConfig,
  MemoryBotActivity,
  MemoryBotRegistry,
  ThrottledActivity,
  type BotActivity,
  type BotRegistry,
} from '@hookway/bots';
import { historyLimits, MemoryEventLog, type EventLog } from '@hookway/bus';
import { createGateway, gatewayDeps, MemorySessionStore, type Gateway, type SessionStore } from '@hookway/gateway';
import { createIngress, ingressDeps, type Ingress } from '@hookway/ingress';
import { FileClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import { createStatus, MemoryReplicaReports, type ReplicaReports } from '@hookway/status';
import {
  ActivityLog,
  AuthFailureThrottle,
  createHttpService,
  httpLimits,
  Metrics,
  metricsAccess,
  type Closeable,
  type Config,
  type HealthSource,
  type Logger,
  type Redactor,
} from '@hookway/runtime';

/** Every store the two roles use, one per concern. */
export interface RelayStores {
  readonly events: EventLog;
  readonly sessions: SessionStore;
  readonly bots: BotRegistry;
  readonly keys: ClientKeyStore;
  /** Every replica's status report (the status page); this process alone when absent. */
  readonly reports?: ReplicaReports;
  /** What the webhook saw of each bot, for raw clients' hello; when absent, one in process memory (owned). */
  readonly activity?: BotActivity;
}

export interface RelayDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** Defaults to new in-process stores (the embedded, no-Redis mode). */
  readonly stores?: RelayStores;
  /**
   * What closing the relay closes after its services, in order (e.g. the stores, then the Redis connection under
   * them): by default the stores the relay created itself, and nothing that was handed in.
   */
  readonly ownedResources?: readonly { name: string; resource: Closeable }[];
  /** Extra readiness and counters for the health endpoints (e.g. the Redis connection). */
  readonly storesHealth?: HealthSource;
  readonly nowMs?: () => number;
  /** How often the per-bot activity line is written (60 s by default). */
  readonly activityIntervalMs?: number;
}

export interface Relay {
  /** Not listening yet: `main` (or a test) calls `listen`. */
  readonly server: Server;
  readonly stores: RelayStores;
  readonly ingress: Ingress;
  readonly gateway: Gateway;
  /** This relay's registry (`GET /metrics`). */
  readonly metrics: Metrics;
  /** The per-bot activity line; `flush()` writes it now. */
  readonly activity: ActivityLog;
  /** Why `/readyz` answers 503 right now, or undefined when ready. */
  notReadyReason(): string | undefined;
  /**
   * Drains, stops listening, answers further webhooks 503, closes clients with 1001 in batches, drops HTTP
   * connections and closes what it owns — in that order, within the deadline.
   */
  close(deadlineMs?: number): Promise<boolean>;
}

/**
 * In-process stores for the embedded mode (and for tests that share them between relays); the client keys are in
 * CLIENT_KEYS_FILE, where `hookway keys` writes them.
 */
export function memoryStores(config: Config, nowMs?: () => number): RelayStores {
  return {
    events: new MemoryEventLog({ ...historyLimits(config), ...(nowMs ? { nowMs } : {}) }),
    sessions: new MemorySessionStore(nowMs),
    bots: new MemoryBotRegistry(),
    keys: new FileClientKeyStore(config.clientKeysFile),
    activity: new MemoryBotActivity(),
  };
}

/** Both roles on one HTTP server: webhooks and health over HTTP, clients over the WebSocket upgrade. */
export function createRelay(deps: RelayDeps): Relay {
  const { config, logger, redactor } = deps;
  const stores = deps.stores ?? memoryStores(config, deps.nowMs);
  const botActivity = stores.activity ?? new MemoryBotActivity();
  const owned =
    deps.ownedResources ??
    (deps.stores
      ? []
      : [
          { name: 'event log', resource: stores.events },
          { name: 'session store', resource: stores.sessions },
          { name: 'bot registry', resource: stores.bots },
          { name: 'client keys', resource: stores.keys },
          { name: 'bot activity', resource: botActivity },
        ]);

  // One directory for both roles: one token cache per bot in this process.
  const directory = directoryFromConfig(config, stores.bots, (value) => redactor.remember(value));
  // One failure throttle too: an address gets AUTH_FAILURES_PER_MINUTE in all, not that many per role.
  const authFailures = new AuthFailureThrottle(config.authFailuresPerMinute, deps.nowMs);
  // The status page: what this process sees, and (over Redis) every other replica's report. Readiness is the
  // service's, built below.
  let notReadyReason: () => string | undefined = () => 'starting';
  const recorder = new ThrottledActivity(botActivity, (err) => logger.warn({ err }, 'bot activity could not be recorded'));
  const status = createStatus({
    role: 'relay',
    config,
    reports: stores.reports ?? new MemoryReplicaReports(),
    logger,
    authFailures,
    notReadyReason: () => notReadyReason(),
    ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
  });
  // One registry and one activity line for both roles: a process is one scrape target.
  if (config.metricsToken !== '') redactor.remember(config.metricsToken);
  const activityLog = new ActivityLog(logger, deps.activityIntervalMs !== undefined ? { intervalMs: deps.activityIntervalMs } : {});
  const metrics = new Metrics({ activity: activityLog });
  metrics.watchStores(
    deps.storesHealth ?? { notReadyReason: () => (stores.events.isReady() ? undefined : 'event log closed'), stats: () => ({}) },
  );
  // The process's logger already says `role: relay`; the parts say which they are under another key (one `role` per line).
  const ingress = createIngress({
    ...ingressDeps({ config, logger: logger.child({ component: 'ingress' }), redactor }, stores.events, directory, {
      authFailures,
      keys: stores.keys,
      botActivity: recorder,
      metrics,
    }),
    activity: status.activity,
    ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
  });
  const gateway = createGateway({
    ...gatewayDeps({ config, logger: logger.child({ component: 'gateway' }) }, stores.events, stores.sessions, directory, stores.keys, {
      authFailures,
      botStanding: (bot) => botActivity.standing(bot),
      metrics,
    }),
    activity: status.activity,
  });
  const http = createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [...(deps.storesHealth ? [deps.storesHealth] : []), ingress, gateway],
    metrics: { metrics, access: metricsAccess(config) },
    handleRequest: status.wrap(ingress.handleRequest),
    handleUpgrade: gateway.handleUpgrade,
    services: [
      { name: 'ingress', resource: ingress },
      { name: 'gateway', resource: gateway },
      { name: 'metrics', resource: metrics },
    ],
    // The recorder writes what it held back before the stores under it close.
    backends: [{ name: 'status report', resource: status }, { name: 'bot activity recorder', resource: recorder }, ...owned],
  });
  notReadyReason = http.notReadyReason;

  return {
    server: http.server,
    stores,
    ingress,
    gateway,
    metrics,
    activity: activityLog,
    notReadyReason: http.notReadyReason,
    close: (deadlineMs = config.shutdownTimeoutMs) => http.close(deadlineMs),
  };
}
