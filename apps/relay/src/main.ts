import { createBus } from '@hookway/bus';
import { runService } from '@hookway/runtime';
import { createRelay } from './create-relay.ts';

/**
 * `pnpm start`: both roles in one process — over Redis when REDIS_URL is set, else on the in-process bus
 * (the embedded default: nothing else to install).
 */
runService('relay', async ({ config, logger, redactor }) => {
  const configured = await createBus(config, (message, detail) => logger.warn({ detail }, message));
  logger.info({ bus: configured.kind }, configured.kind === 'redis' ? 'using Redis' : 'embedded mode: in-process bus');
  return createRelay({ config, logger, redactor, bus: configured.bus, closeBus: true, busHealth: configured.health });
});
