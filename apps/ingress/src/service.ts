import {
  directoryFromConfig,
  openBotActivity,
  openBotRegistry,
  ThrottledActivity,
  type ActivityNotes,
  type BotDirectory,
} from '@hookway/bots';
import { openEventLog, type EventLog } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import { closeBackend, type StoreBackend } from '@hookway/redis';
import {
  createHttpService,
  createProxyTrust,
  httpLimits,
  AuthFailureThrottle,
  type HttpService,
  type ServiceContext,
} from '@hookway/runtime';
import { createIngress, type IngressDeps } from './create-ingress.ts';
import { createOpenApi } from './openapi.ts';

/** The ingress role alone: webhooks in, events onto the event log, plus health endpoints. Stateless. */
export function createIngressService(context: ServiceContext, backend: StoreBackend): HttpService {
  const { config, logger, redactor } = context;
  const events = openEventLog(backend, config);
  const bots = openBotRegistry(backend);
  const activity = openBotActivity(backend);
  const recorder = new ThrottledActivity(activity, (err) => logger.warn({ err }, 'bot activity could not be recorded'));
  const ingress = createIngress(
    ingressDeps(
      context,
      events.log,
      directoryFromConfig(config, bots, (value) => redactor.remember(value)),
      undefined,
      recorder,
    ),
  );
  return createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    limits: httpLimits(config),
    health: [events.health, ingress],
    handleRequest: ingress.handleRequest,
    services: [{ name: 'ingress', resource: ingress }],
    backends: [
      { name: 'event log', resource: events.log },
      { name: 'bot registry', resource: bots },
      { name: 'bot activity', resource: { close: () => recorder.close().then(() => activity.close()) } },
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
  activity?: ActivityNotes,
): IngressDeps {
  const trust = createProxyTrust(config.trustProxy);
  return {
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
    }),
    ...(activity ? { activity } : {}),
    learnBot: async (appid: string, secret: AppSecret) => {
      const kept = await directory.learn(appid, secret);
      if (!kept)
        logger.warn({ appid }, 'X-Bot-Appid does not match the secret in the callback URL (or the token service failed); not learned');
      return kept;
    },
  };
}
