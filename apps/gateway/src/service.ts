import { directoryFromConfig, openBotRegistry, type BotDirectory } from '@hookway/bots';
import { openEventLog, type EventLog } from '@hookway/bus';
import { openClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import { closeBackend, type StoreBackend } from '@hookway/redis';
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
  const metrics = new Metrics({ activity: new ActivityLog(logger) });
  metrics.watchStores(events.health);
  const gateway = createGateway(gatewayDeps(context, events.log, sessions, directory, keys, undefined, metrics));
  return createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [events.health, gateway],
    metrics: { metrics, access: metricsAccess(config) },
    handleRequest: answerPlainHttp,
    handleUpgrade: gateway.handleUpgrade,
    services: [
      { name: 'gateway', resource: gateway },
      { name: 'metrics', resource: metrics },
    ],
    backends: [
      { name: 'event log', resource: events.log },
      { name: 'session store', resource: sessions },
      { name: 'bot registry', resource: bots },
      { name: 'client keys', resource: keys },
      { name: 'store backend', resource: { close: () => closeBackend(backend) } },
    ],
  });
}

/** What `createGateway` needs, from the settings: shared by the gateway role and the relay. */
export function gatewayDeps(
  { config, logger }: Pick<ServiceContext, 'config' | 'logger'>,
  events: EventLog,
  sessions: SessionStore,
  directory: BotDirectory,
  keys: ClientKeyStore,
  authFailures = new AuthFailureThrottle(config.authFailuresPerMinute),
  metrics?: GatewayMetrics,
): GatewayDeps {
  return {
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
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    closeBatchSize: config.shutdownCloseBatch,
    closeBatchIntervalMs: config.shutdownBatchIntervalMs,
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
