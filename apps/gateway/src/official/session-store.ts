import { redisKeys, type RedisConnection, type StoreBackend } from '@hookway/redis';

/**
 * Gateway-mode sessions (opaque JSON), kept for a while after their connection ends so that a Resume can land on
 * any replica. Memory and Redis implementations pass one contract suite (test/session-store.contract.ts).
 */
export interface SessionStore {
  /** Stores (or replaces) a session, readable for `ttlMs` from now. */
  save(sessionId: string, data: string, ttlMs: number): Promise<void>;
  /** The session, unless it never existed or its time ran out. */
  load(sessionId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { data: string; expiresAtMs: number }>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly nowMs: () => number = Date.now,
    sweepIntervalMs = 30_000,
  ) {
    this.sweepTimer = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async save(sessionId: string, data: string, ttlMs: number): Promise<void> {
    this.sessions.set(sessionId, { data, expiresAtMs: this.nowMs() + ttlMs });
  }

  async load(sessionId: string): Promise<string | undefined> {
    const session = this.sessions.get(sessionId);
    if (!session || session.expiresAtMs <= this.nowMs()) return undefined;
    return session.data;
  }

  /** Sessions kept, expired ones included until the next sweep. */
  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [id, session] of this.sessions) if (session.expiresAtMs <= now) this.sessions.delete(id);
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sessions.clear();
  }
}

export class RedisSessionStore implements SessionStore {
  constructor(private readonly connection: RedisConnection) {}

  async save(sessionId: string, data: string, ttlMs: number): Promise<void> {
    await this.connection.run(this.connection.client.set(redisKeys.session(sessionId), data, 'PX', ttlMs));
  }

  async load(sessionId: string): Promise<string | undefined> {
    return (await this.connection.run(this.connection.client.get(redisKeys.session(sessionId)))) ?? undefined;
  }

  /** The shared connection stays with its owner. */
  async close(): Promise<void> {}
}

export function openSessionStore(backend: StoreBackend): SessionStore {
  return backend.kind === 'redis' ? new RedisSessionStore(backend.connection) : new MemorySessionStore();
}
