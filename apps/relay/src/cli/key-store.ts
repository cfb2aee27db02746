import { resolve } from 'node:path';
import { readBotsFile, RedisBotRegistry } from '@hookway/bots';
import { openClientKeyStore, type ClientKeyStore } from '@hookway/keys';
import { describeTarget, MEMORY_BACKEND, openRedisConnection, redisTarget, type StoreBackend } from '@hookway/redis';
import type { Config } from '@hookway/runtime';
import { CommandFailed } from './command.ts';

/** The keys the relay would use with the same settings, opened for one command. */
export interface CommandKeyStore {
  readonly store: ClientKeyStore;
  /** Where the keys are, for messages: the file, or Redis host:port (never its password). */
  readonly where: string;
  /** The appids this Hookway knows (BOTS, BOTS_FILE and, on Redis, the bots learned from webhooks), and why some may be missing. */
  knownBots(): Promise<{ appids: ReadonlySet<string>; problems: readonly string[] }>;
  close(): Promise<void>;
}

/** How long a command waits for Redis before saying it cannot reach it. */
const REDIS_WAIT_MS = 5000;

/** Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): the Redis every replica reads; else CLIENT_KEYS_FILE, which running embedded relays re-read. */
export async function openCommandKeyStore(config: Config): Promise<CommandKeyStore> {
  let backend: StoreBackend = MEMORY_BACKEND;
  const path = resolve(config.clientKeysFile);
  let where = path === config.clientKeysFile ? path : `${config.clientKeysFile} (${path})`;
  const target = redisTarget(config);
  if (target) {
    where = target.mode === 'single' ? `Redis at ${redisAddress(target.url)}` : describeTarget(target);
    // Connection errors are reported once, below, rather than as they happen.
    const connection = await openRedisConnection(config);
    connection.client.on('error', () => {});
    if (!(await connection.whenReady(REDIS_WAIT_MS))) {
      const why = connection.notReadyReason();
      await connection.close();
      const setting = { single: 'REDIS_URL', sentinel: 'REDIS_SENTINELS', cluster: 'REDIS_CLUSTER_NODES' }[target.mode];
      throw new CommandFailed(
        `cannot reach ${where} (${setting}) within ${REDIS_WAIT_MS / 1000} s${target.mode !== 'single' && why ? ` (${why})` : ''}; nothing was changed`,
      );
    }
    backend = { kind: 'redis', connection };
  }
  const store = openClientKeyStore(backend, config);
  return {
    store,
    where,
    knownBots: async () => {
      const appids = new Set(config.bots.keys());
      const problems: string[] = [];
      if (config.botsFile !== '') {
        try {
          for (const appid of readBotsFile(config.botsFile).keys()) appids.add(appid);
        } catch (err) {
          problems.push(`BOTS_FILE could not be read: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (backend.kind === 'redis') {
        for (const appid of (await new RedisBotRegistry(backend.connection).all()).keys()) appids.add(appid);
      }
      return { appids, problems };
    },
    close: async () => {
      await store.close();
      if (backend.kind === 'redis') await backend.connection.close();
    },
  };
}

/** `redis://:pw@host:6379/2` → `host:6379/2`: enough to know which Redis, nothing to log in with. */
function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'REDIS_URL';
  }
}
