import { openBackend } from '@hookway/redis';
import { requireRedis, runService } from '@hookway/runtime';
import { createIngressService } from './service.ts';

/** `pnpm start:ingress`: the ingress role alone, publishing through Redis. */
runService('ingress', async (context) => {
  requireRedis('ingress', context.config);
  const backend = await openBackend(context.config, (message, detail) => context.logger.warn({ detail }, message));
  return createIngressService(context, backend);
});
