import type { Logger } from '@hookway/runtime';
import type { ClientKeys, KeyGrant } from './client-keys.ts';

/**
 * How often a gateway re-reads the keys its clients were admitted with. A revocation (made on any replica, by
 * `hookway keys revoke`) or an expiry closes the key's connections within this interval plus one store read — well
 * inside the 5 s promised — at the cost of one read per distinct key per interval, however many clients share it.
 */
export const KEY_RECHECK_INTERVAL_MS = 2000;

/** A connection admitted with a client key, as the re-check sees it. */
export interface KeyedClient {
  readonly keyGrant: KeyGrant | undefined;
  isClosed(): boolean;
  /** The key no longer admits this client: close it in its kind's words. */
  keyRevoked(): void;
}

/**
 * One timer for all of a gateway's clients: each distinct key of the connected clients is checked against the shared
 * store, and the clients of a key that is gone or expired are closed. A store that cannot be read leaves everyone
 * connected (a Redis blip must not drop every keyed client) and is logged once until it recovers.
 */
export function startKeyRecheck(
  clients: () => Iterable<KeyedClient>,
  keys: ClientKeys,
  logger: Logger,
  onClosed: (count: number) => void,
  intervalMs = KEY_RECHECK_INTERVAL_MS,
): { stop(): void } {
  let running = false;
  let failing = false;

  async function recheck(): Promise<void> {
    const byKey = new Map<string, { grant: KeyGrant; clients: KeyedClient[] }>();
    for (const client of clients()) {
      const grant = client.keyGrant;
      if (!grant || client.isClosed()) continue;
      const entry = byKey.get(grant.hash) ?? { grant, clients: [] };
      entry.clients.push(client);
      byKey.set(grant.hash, entry);
    }
    let failed = false;
    await Promise.all(
      [...byKey.values()].map(async ({ grant, clients: holders }) => {
        let valid: boolean;
        try {
          valid = await keys.stillValid(grant);
        } catch (err) {
          if (!failing) logger.warn({ err }, 'client keys could not be re-checked; connections stay open until they can');
          failed = true;
          return;
        }
        if (valid) return;
        logger.info({ key: grant.name, connections: holders.length }, 'client key revoked or expired: closing its connections');
        for (const client of holders) client.keyRevoked();
        onClosed(holders.length);
      }),
    );
    failing = failed;
  }

  const timer = setInterval(() => {
    if (running) return;
    running = true;
    recheck().then(
      () => (running = false),
      (err: unknown) => {
        running = false;
        logger.error({ err }, 'client key re-check failed');
      },
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
