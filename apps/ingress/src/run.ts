import { openBackend } from '@hookway/redis';
import { requireRedis, runService } from '@hookway/runtime';
import { createIngressService } from './service.ts';

/** The ingress role alone, publishing through Redis: `pnpm start:ingress`, `node dist/hookway.mjs ingress`. */
export function runIngress(): void {
  runService('ingress', async (context) => {
    requireRedis('ingress', context.config);
    const backend = await openBackend(context.config, (message, detail) => context.logger.warn({ detail }, message));
    return createIngressService(context, backend);
  });
}
