import type { ConfiguredBus } from '@hookway/bus';
import { createHttpService, type HttpService, type ServiceContext } from '@hookway/runtime';
import { createIngress } from './create-ingress.ts';

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
) {
  return {
    bus: configured.bus,
    logger,
    redactor,
    maxBodyBytes: config.maxBodyBytes,
    signatureMaxSkewSec: config.signatureMaxSkewSec,
  };
}
