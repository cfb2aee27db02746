import { directoryFromConfig, type BotDirectory } from '@hookway/bots';
import type { ConfiguredBus } from '@hookway/bus';
import { createHttpService, type HttpService, type ServiceContext } from '@hookway/runtime';
import { createIngress } from './create-ingress.ts';
import { createOpenApi } from './openapi.ts';

/** The ingress role alone: webhooks in, events onto the bus, plus health endpoints. Stateless. */
export function createIngressService({ config, logger, redactor }: ServiceContext, configured: ConfiguredBus): HttpService {
  const ingress = createIngress(ingressDeps(config, logger, redactor, configured));
  return createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    health: [configured.health, ingress],
    handleRequest: ingress.handleRequest,
    services: [{ name: 'ingress', resource: ingress }],
    backends: [{ name: 'bus', resource: configured.bus }],
  });
}

export function ingressDeps(
  config: ServiceContext['config'],
  logger: ServiceContext['logger'],
  redactor: ServiceContext['redactor'],
  configured: Pick<ConfiguredBus, 'bus'>,
  directory: BotDirectory = directoryFromConfig(config, configured.bus, (value) => redactor.remember(value)),
) {
  return {
    bus: configured.bus,
    logger,
    redactor,
    maxBodyBytes: config.maxBodyBytes,
    signatureMaxSkewSec: config.signatureMaxSkewSec,
    openApi: createOpenApi({
      apiBase: config.qqApiBase,
      tokenUrl: config.qqTokenUrl,
      publicUrl: config.publicUrl,
      directory,
      logger,
    }),
    learnBot: async (appid: string, secret: string) => {
      const kept = await directory.learn(appid, secret);
      if (!kept)
        logger.warn({ appid }, 'X-Bot-Appid does not match the secret in the callback URL (or the token service failed); not learned');
      return kept;
    },
  };
}
