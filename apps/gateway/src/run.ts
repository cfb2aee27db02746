import { openBackend } from '@hookway/redis';
import { requireRedis, runService } from '@hookway/runtime';
import { createGatewayService } from './service.ts';

/** The gateway role alone, fed through Redis: `pnpm start:gateway`, `node dist/hookway.mjs gateway`. */
export function runGateway(): void {
  runService('gateway', async (context) => {
    requireRedis('gateway', context.config);
    const backend = await openBackend(context.config, (message, detail) => context.logger.warn({ detail }, message));
    return createGatewayService(context, backend);
  });
}
