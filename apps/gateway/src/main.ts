import { openBackend } from '@hookway/redis';
import { requireRedis, runService } from '@hookway/runtime';
import { createGatewayService } from './service.ts';

/** `pnpm start:gateway`: the gateway role alone, fed through Redis. */
runService('gateway', async (context) => {
  requireRedis('gateway', context.config);
  const backend = await openBackend(context.config, (message, detail) => context.logger.warn({ detail }, message));
  return createGatewayService(context, backend);
});
