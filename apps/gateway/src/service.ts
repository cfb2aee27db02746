import {
  createOpenApiCaller,
  directoryFromConfig,
  openBotActivity,
  openBotRegistry,
  type BotDirectory,
  type BotStanding,
} from '@hookway/bots';
import { openEventLog, type EventLog } from '@hookway/bus';
import { openClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import type { AppSecret } from '@hookway/protocol';
import { closeBackend, type StoreBackend } from '@hookway/redis';
import { createStatus, openReplicaReports } from '@hookway/status';
import {
  ActivityLog,
  AuthFailureThrottle,
  createHttpService,
  Metrics,
  metricsAccess,
  type GatewayMetrics,
  createProxyTrust,
  httpLimits,
  type HttpService,
  type ServiceContext,
} from '@hookway/runtime';
import { createGateway, type GatewayDeps } from './create-gateway.ts';
import { openSessionStore, type SessionStore } from './official/session-store.ts';
import { answerPlainHttp } from './plain-http.ts';

/** The gateway role alone: WebSocket clients fed from the event log, plus health endpoints. */
export function createGatewayService(context: ServiceContext, backend: StoreBackend): HttpService {
  const { config, logger, redactor } = context;
  const events = openEventLog(backend, config);
  const sessions = openSessionStore(backend);
  const bots = openBotRegistry(backend);
  const keys = openClientKeyStore(backend, config);
  const directory = directoryFromConfig(config, bots, (value) => redactor.remember(value));
  const activity = openBotActivity(backend);
  const authFailures = new AuthFailureThrottle(config.authFailuresPerMinute);
  const metrics = new Metrics({ activity: new ActivityLog(logger) });
  metrics.watchStores(events.health);
  // The status page reads every replica's report; this one's readiness is the service's, built below.
  let service: HttpService | undefined;
  const status = createStatus({
    role: 'gateway',
    config,
    reports: openReplicaReports(backend),
    logger,
    authFailures,
    notReadyReason: () => (service ? service.notReadyReason() : 'starting'),
  });
  const gateway = createGateway({
    ...gatewayDeps(context, events.log, sessions, directory, keys, {
      authFailures,
      botStanding: (bot) => activity.standing(bot),
      metrics,
    }),
    activity: status.activity,
  });
  return (service = createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [events.health, gateway],
    metrics: { metrics, access: metricsAccess(config) },
    handleRequest: status.wrap(answerPlainHttp),
    handleUpgrade: gateway.handleUpgrade,
    services: [
      { name: 'gateway', resource: gateway },
      { name: 'metrics', resource: metrics },
    ],
    backends: [
      { name: 'status report', resource: status },
      { name: 'event log', resource: events.log },
      { name: 'session store', resource: sessions },
      { name: 'bot registry', resource: bots },
      { name: 'client keys', resource: keys },
      { name: 'bot activity', resource: activity },
      { name: 'store backend', resource: { close: () => closeBackend(backend) } },
    ],
  }));
}

/** The parts a composition root may share or add; each absent part is made here or left out. */
export interface GatewayExtras {
  /** One throttle per process: the relay shares it with the ingress. */
  readonly authFailures?: AuthFailureThrottle;
  /** What the webhook saw of a bot (BotActivity), for raw clients' hello. */
  readonly botStanding?: (bot: AppSecret) => Promise<BotStanding>;
  readonly metrics?: GatewayMetrics;
}

/** What `createGateway` needs, from the settings: shared by the gateway role and the relay. */
export function gatewayDeps(
  { config, logger }: Pick<ServiceContext, 'config' | 'logger'>,
  events: EventLog,
  sessions: SessionStore,
  directory: BotDirectory,
  keys: ClientKeyStore,
  extras: GatewayExtras = {},
): GatewayDeps {
  const { botStanding, metrics } = extras;
  const authFailures = extras.authFailures ?? new AuthFailureThrottle(config.authFailuresPerMinute);
  return {
    ...(botStanding ? { botStanding } : {}),
    ...(metrics ? { metrics } : {}),
    events,
    logger,
    directory,
    keys,
    allowSecretInUrl: config.allowSecretInUrl,
    proxyTrust: createProxyTrust(config.trustProxy),
    authFailures,
    pingIntervalMs: config.wsPingIntervalMs,
    terminateUnresponsive: config.wsTerminateUnresponsive,
    maxClientFrameBytes: config.wsMaxClientFrameBytes,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    maxFanOutBacklogBytes: config.fanoutBacklogMaxBytes,
    fanOutFramesPerTurn: config.fanoutFramesPerTurn,
    fanOutCoalesce: { windowMs: config.fanoutCoalesceMs, minClients: config.fanoutCoalesceMinClients },
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    closeBatchSize: config.shutdownCloseBatch,
    closeBatchIntervalMs: config.shutdownBatchIntervalMs,
    // Calls through the socket, on whichever replica the client is connected to: this process's token cache.
    ...(config.openapiProxy
      ? {
          callOpenApi: createOpenApiCaller({
            directory,
            apiBase: config.qqApiBase,
            timeoutMs: config.openapiTimeoutMs,
            // A result frame must fit the client's send buffer.
            maxAnswerBytes: Math.floor(config.wsMaxBufferedBytes / 2),
          }),
        }
      : {}),
    maxCallsInFlight: config.rawCallsInFlightMax,
    gatewayMode: {
      sessions,
      intents: config.gatewayIntents,
      heartbeatIntervalMs: config.gatewayHeartbeatIntervalMs,
      identifyTimeoutMs: config.gatewayIdentifyTimeoutMs,
      closeGraceMs: config.gatewayCloseGraceMs,
      sessionTtlMs: config.gatewaySessionTtlSec * 1000,
    },
  };
}
