import { Redis, type RedisOptions } from 'ioredis';

export interface RedisConnectionOptions {
  readonly url: string;
  /** A command that takes longer fails (the ingress then answers 503 instead of hanging). */
  readonly commandTimeoutMs?: number;
  /** Called for problems worth a log line (connection errors, a stalled server). */
  readonly onWarning?: (message: string, detail?: unknown) => void;
}

/**
 * An error from Redis without ioredis's attached command: those arguments hold keys named after AppSecrets
 * (and AUTH holds the password), and error objects end up in logs.
 */
export class RedisCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisCommandError';
  }
}

export const cleanRedisError = (err: unknown) => new RedisCommandError(err instanceof Error ? err.message : String(err));

/** A stalled Redis (partition, CLIENT PAUSE) keeps its TCP up: this many timeouts in a row count as down. */
const TIMEOUTS_BEFORE_RECONNECT = 3;

/** Capped, jittered reconnect backoff: 100 ms doubling to 2 s, never a tight loop. */
const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000) + Math.floor(Math.random() * 250);

export type RedisConnectionStats = { redisCommandTimeouts: number };

/**
 * The one command connection a process shares between its stores (event log, sessions, bot registry, …). Every
 * command goes through `run`, so errors never carry their arguments and repeated timeouts force a reconnect.
 */
export class RedisConnection {
  readonly client: Redis;
  private consecutiveTimeouts = 0;
  private closed = false;
  private readonly counters: RedisConnectionStats = { redisCommandTimeouts: 0 };

  constructor(private readonly options: RedisConnectionOptions) {
    this.client = new Redis(options.url, {
      ...this.connectionOptions(),
      // Fail at once while disconnected: the ingress answers 503 and the platform retries.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.client.on('error', (err: Error) => this.warn('redis connection error', { message: err.message }));
    this.client.on('ready', () => (this.consecutiveTimeouts = 0));
  }

  /** Options for any further connection to the same server (a subscriber). */
  connectionOptions(): RedisOptions {
    return {
      commandTimeout: this.options.commandTimeoutMs ?? 2000,
      retryStrategy,
      connectTimeout: 5000,
      keepAlive: 15_000,
    };
  }

  /** A new connection to the same server for pub/sub; its owner closes it (see `quitRedis`). */
  newSubscriber(): Redis {
    return new Redis(this.options.url, { ...this.connectionOptions(), autoResubscribe: true });
  }

  warn(message: string, detail?: unknown): void {
    this.options.onWarning?.(message, detail);
  }

  /**
   * Resolves true once the command connection is up, or false after `timeoutMs`. Processes start serving either
   * way: until Redis answers, `/readyz` says why and webhooks get 503.
   */
  async whenReady(timeoutMs = 5000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.client.once('ready', onReady);
    });
  }

  /** Every command goes through here: errors lose their command, and repeated timeouts force a reconnect. */
  async run<T>(command: Promise<T>): Promise<T> {
    try {
      const result = await command;
      this.consecutiveTimeouts = 0;
      return result;
    } catch (err) {
      if (err instanceof Error && /timed out/i.test(err.message)) {
        this.counters.redisCommandTimeouts++;
        if (++this.consecutiveTimeouts === TIMEOUTS_BEFORE_RECONNECT) {
          this.warn('redis stopped answering; reconnecting');
          this.client.disconnect(true);
        }
      }
      throw cleanRedisError(err);
    }
  }

  /** Why commands cannot be served now, for `/readyz`. */
  notReadyReason(): string | undefined {
    if (this.closed) return 'redis connection closed';
    if (this.client.status !== 'ready') return `redis ${this.client.status}`;
    if (this.consecutiveTimeouts >= TIMEOUTS_BEFORE_RECONNECT) return 'redis not answering';
    return undefined;
  }

  stats(): RedisConnectionStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await quitRedis(this.client);
  }
}

/** QUIT when connected (pending replies arrive first), else just drop the connection. */
export async function quitRedis(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}
