import { AppSecret } from '@hookway/protocol';
import { redisKeys, type RedisConnection, type StoreBackend } from '@hookway/redis';

/**
 * The bots Hookway learned (appid → AppSecret, from verified webhooks that named their appid), shared by every
 * replica so any gateway can check a gateway-mode token. Memory and Redis implementations pass one contract suite
 * (test/bot-registry.contract.ts).
 */
export interface BotRegistry {
  /** Records which AppSecret belongs to an appid; a later call for the same appid replaces it. */
  remember(appid: string, secret: AppSecret): Promise<void>;
  /** Every appid → AppSecret pair learned so far. */
  all(): Promise<ReadonlyMap<string, AppSecret>>;
  close(): Promise<void>;
}

export class MemoryBotRegistry implements BotRegistry {
  private readonly bots = new Map<string, AppSecret>();

  async remember(appid: string, secret: AppSecret): Promise<void> {
    this.bots.set(appid, secret);
  }

  async all(): Promise<ReadonlyMap<string, AppSecret>> {
    return new Map(this.bots);
  }

  async close(): Promise<void> {}
}

export class RedisBotRegistry implements BotRegistry {
  constructor(private readonly connection: RedisConnection) {}

  async remember(appid: string, secret: AppSecret): Promise<void> {
    await this.connection.run(this.connection.client.hset(redisKeys.bots(), appid, secret.reveal()));
  }

  async all(): Promise<ReadonlyMap<string, AppSecret>> {
    const bots = new Map<string, AppSecret>();
    for (const [appid, value] of Object.entries(await this.connection.run(this.connection.client.hgetall(redisKeys.bots())))) {
      // Redis is trusted, but a hand-edited entry that is no secret must not become one.
      const secret = AppSecret.parse(value);
      if (secret) bots.set(appid, secret);
    }
    return bots;
  }

  /** The shared connection stays with its owner. */
  async close(): Promise<void> {}
}

export function openBotRegistry(backend: StoreBackend): BotRegistry {
  return backend.kind === 'redis' ? new RedisBotRegistry(backend.connection) : new MemoryBotRegistry();
}
