import { openBotActivity, openBotRegistry } from '@hookway/bots';
import { openEventLog } from '@hookway/bus';
import { openSessionStore } from '@hookway/gateway';
import { openClientKeyStore } from '@hookway/keys';
import { closeBackend, openBackend } from '@hookway/redis';
import { runService } from '@hookway/runtime';
import { openReplicaReports } from '@hookway/status';
import { createRelay } from './create-relay.ts';

/**
 * Both roles in one process — over Redis when REDIS_URL is set, else in process memory (the embedded default:
 * nothing else to install). `pnpm start`, `node dist/hookway.mjs`.
 */
export function runRelay(): void {
  runService('relay', async ({ config, logger, redactor }) => {
    const backend = await openBackend(config, (message, detail) => logger.warn({ detail }, message));
    logger.info({ stores: backend.kind }, backend.kind === 'redis' ? 'using Redis' : 'embedded mode: stores in process memory');
    const events = openEventLog(backend, config);
    const stores = {
      events: events.log,
      sessions: openSessionStore(backend),
      bots: openBotRegistry(backend),
      keys: openClientKeyStore(backend, config),
      reports: openReplicaReports(backend),
      activity: openBotActivity(backend),
    };
    return createRelay({
      config,
      logger,
      redactor,
      stores,
      storesHealth: events.health,
      ownedResources: [
        { name: 'event log', resource: stores.events },
        { name: 'session store', resource: stores.sessions },
        { name: 'bot registry', resource: stores.bots },
        { name: 'client keys', resource: stores.keys },
        { name: 'bot activity', resource: stores.activity },
        { name: 'store backend', resource: { close: () => closeBackend(backend) } },
      ],
    });
  });
}
