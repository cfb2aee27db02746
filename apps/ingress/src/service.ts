import {
  directoryFromConfig,
  openBotActivity,
  openBotRegistry,
  ThrottledActivity,
  type ActivityNotes,
  type BotDirectory,
} from '@hookway/bots';
import { openEventLog, type EventLog } from '@hookway/bus';
import { openClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import type { AppSecret } from '@hookway/protocol';
import { closeBackend, type StoreBackend } from '@hookway/redis';
import { createStatus, openReplicaReports } from '@hookway/status';
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
import { createVerifier } from './verifier.ts';

/** The ingress role alone: webhooks in, events onto the event log, plus health endpoints. Stateless. */
export function createIngressService(context: ServiceContext, backend: StoreBackend): HttpService {
  const { config, logger, redactor } = context;
  const events = openEventLog(backend, config);
  const bots = openBotRegistry(backend);
  // For `Authorization: Bearer <client key>` on the OpenAPI paths.
  const keys = openClientKeyStore(backend, config);
  const activity = openBotActivity(backend);
  const recorder = new ThrottledActivity(activity, (err) => logger.warn({ err }, 'bot activity could not be recorded'));
  const authFailures = new AuthFailureThrottle(config.authFailuresPerMinute);
  const metrics = new Metrics({ activity: new ActivityLog(logger) });
  metrics.watchStores(events.health);
  // The status page reads every replica's report; this one's readiness is the service's, built below.
  let service: HttpService | undefined;
  const status = createStatus({
    role: 'ingress',
    config,
    reports: openReplicaReports(backend),
    logger,
    authFailures,
    notReadyReason: () => (service ? service.notReadyReason() : 'starting'),
  });
  const ingress = createIngress({
    ...ingressDeps(
      context,
      events.log,
      directoryFromConfig(config, bots, (value) => redactor.remember(value)),
      {
        authFailures,
        keys,
        botActivity: recorder,
        metrics,
      },
    ),
    activity: status.activity,
  });
  return (service = createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [events.health, ingress],
    metrics: { metrics, access: metricsAccess(config) },
    handleRequest: status.wrap(ingress.handleRequest),
    services: [
      { name: 'ingress', resource: ingress },
      { name: 'metrics', resource: metrics },
    ],
    backends: [
      { name: 'status report', resource: status },
      { name: 'event log', resource: events.log },
      { name: 'bot registry', resource: bots },
      { name: 'client keys', resource: keys },
      { name: 'bot activity', resource: { close: () => recorder.close().then(() => activity.close()) } },
      { name: 'store backend', resource: { close: () => closeBackend(backend) } },
    ],
  }));
}

/** The parts a composition root may share or add; each absent part is made here or left out. */
export interface IngressExtras {
  /** One throttle per process: the relay shares it with the gateway. */
  readonly authFailures?: AuthFailureThrottle;
  /** For `Authorization: Bearer <client key>` on the OpenAPI paths. */
  readonly keys?: ClientKeyStore;
  /** What raw clients' hello reports (op 13 and verified events). */
  readonly botActivity?: ActivityNotes;
  readonly metrics?: IngressMetrics;
}

/** What `createIngress` needs, from the settings: shared by the ingress role and the relay. */
export function ingressDeps(
  { config, logger, redactor }: ServiceContext,
  events: EventLog,
  directory: BotDirectory,
  extras: IngressExtras = {},
): IngressDeps {
  const { keys, botActivity, metrics } = extras;
  const authFailures = extras.authFailures ?? new AuthFailureThrottle(config.authFailuresPerMinute);
  const trust = createProxyTrust(config.trustProxy);
  return {
    ...(metrics ? { metrics } : {}),
    // VERIFY_THREADS; the ingress closes it (after its last webhook is answered).
    verifier: createVerifier(config.verifyThreads, (err) => logger.error({ err }, 'a verify thread died and was replaced')),
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
      timeoutMs: config.openapiTimeoutMs,
      neverForward: [config.adminToken, config.metricsToken],
      ...(keys ? { keys } : {}),
      authFailures,
      ...(metrics ? { onAnswered: (status: number | undefined) => metrics.openApiAnswered(status) } : {}),
    }),
    ...(botActivity ? { botActivity } : {}),
    learnBot: async (appid: string, secret: AppSecret) => {
      const kept = await directory.learn(appid, secret);
      if (!kept)
        logger.warn({ appid }, 'X-Bot-Appid does not match the secret in the callback URL (or the token service failed); not learned');
      return kept;
    },
  };
}
