import { directoryFromConfig, type BotDirectory } from '@hookway/bots';
import type { ConfiguredBus } from '@hookway/bus';
import { createHttpService, type HttpService, type ServiceContext } from '@hookway/runtime';
import { createGateway } from './create-gateway.ts';
import { answerPlainHttp } from './plain-http.ts';

/** The gateway role alone: WebSocket clients fed from the bus, plus health endpoints. */
export function createGatewayService({ config, logger, redactor }: ServiceContext, configured: ConfiguredBus): HttpService {
  const gateway = createGateway(gatewayDeps(config, logger, redactor, configured));
  return createHttpService({
    logger,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    drainMs: config.shutdownDrainMs,
    health: [configured.health, gateway],
    handleRequest: answerPlainHttp,
    handleUpgrade: gateway.handleUpgrade,
    services: [{ name: 'gateway', resource: gateway }],
    backends: [{ name: 'bus', resource: configured.bus }],
  });
}

export function gatewayDeps(
  config: ServiceContext['config'],
  logger: ServiceContext['logger'],
  redactor: ServiceContext['redactor'],
  configured: Pick<ConfiguredBus, 'bus'>,
  directory: BotDirectory = directoryFromConfig(config, configured.bus, (value) => redactor.remember(value)),
) {
  return {
    bus: configured.bus,
    logger,
    pingIntervalMs: config.wsPingIntervalMs,
    terminateUnresponsive: config.wsTerminateUnresponsive,
    maxClientFrameBytes: config.wsMaxClientFrameBytes,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    tcpKeepaliveDelayMs: config.tcpKeepaliveDelayMs,
    closeBatchSize: config.shutdownCloseBatch,
    closeBatchIntervalMs: config.shutdownBatchIntervalMs,
    gatewayMode: {
      directory,
      intents: config.gatewayIntents,
      heartbeatIntervalMs: config.gatewayHeartbeatIntervalMs,
      identifyTimeoutMs: config.gatewayIdentifyTimeoutMs,
      closeGraceMs: config.gatewayCloseGraceMs,
      sessionTtlMs: config.gatewaySessionTtlSec * 1000,
    },
  };
}
