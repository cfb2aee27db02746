import { directoryFromConfig, openBotRegistry, type BotDirectory } from '@hookway/bots';
import { openEventLog, type EventLog } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import { closeBackend, type StoreBackend } from '@hookway/redis';
import {
  createHttpService,
  createProxyTrust,
  httpLimits,
  AuthFailureThrottle,
  ActivityLog,
  Metrics,
  type HttpService,
  metricsAccess,
  type IngressMetrics,
  type ServiceContext,
} from '@hookway/runtime';
import { createIngress, type IngressDeps } from './create-ingress.ts';
import { createOpenApi } from './openapi.ts';

/** The ingress role alone: webhooks in, events onto the event log, plus health endpoints. Stateless. */
export function createIngressService(context: ServiceContext, backend: StoreBackend): HttpService {
  const { config, logger, redactor } = context;
  const events = openEventLog(backend, config);
  const bots = openBotRegistry(backend);
  const metrics = new Metrics({ activity: new ActivityLog(logger) });
  metrics.watchStores(events.health);
  const ingress = createIngress(
    ingressDeps(
      context,
      events.log,
      directoryFromConfig(config, bots, (value) => redactor.remember(value)),
      undefined,
      metrics,
    ),
  );
  return createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [events.health, ingress],
    metrics: { metrics, access: metricsAccess(config) },
    handleRequest: ingress.handleRequest,
    services: [
      { name: 'ingress', resource: ingress },
      { name: 'metrics', resource: metrics },
    ],
    backends: [
      { name: 'event log', resource: events.log },
      { name: 'bot registry', resource: bots },
      { name: 'store backend', resource: { close: () => closeBackend(backend) } },
    ],
  });
}

/** What `createIngress` needs, from the settings: shared by the ingress role and the relay. */
export function ingressDeps(
  { config, logger, redactor }: ServiceContext,
  events: EventLog,
  directory: BotDirectory,
  authFailures = new AuthFailureThrottle(config.authFailuresPerMinute),
  metrics?: IngressMetrics,
): IngressDeps {
  const trust = createProxyTrust(config.trustProxy);
  return {
    ...(metrics ? { metrics } : {}),
    events,
    logger,
    redactor,
    maxBodyBytes: config.maxBodyBytes,
    signatureMaxSkewSec: config.signatureMaxSkewSec,
    allowSecretInUrl: config.allowSecretInUrl,
    configuredSecret: (appid) => directory.configuredSecret(appid),
    trust,
    bodyBudgetBytes: config.webhookBodyBudgetBytes,
    authFailures,
    openApi: createOpenApi({
      apiBase: config.qqApiBase,
      tokenUrl: config.qqTokenUrl,
      publicUrl: config.publicUrl,
      forward: config.openapiProxy,
      directory,
      trust,
      logger,
      ...(metrics ? { onAnswered: (status: number | undefined) => metrics.openApiAnswered(status) } : {}),
    }),
    learnBot: async (appid: string, secret: AppSecret) => {
      const kept = await directory.learn(appid, secret);
      if (!kept)
        logger.warn({ appid }, 'X-Bot-Appid does not match the secret in the callback URL (or the token service failed); not learned');
      return kept;
    },
  };
}
