import { redisKeys, type RedisConnection, type StoreBackend } from '@hookway/redis';
import type { ActivitySnapshot } from './activity.ts';

/** What one process says about itself, every STATUS_REPORT_INTERVAL_MS, for every replica's status page. */
export interface ReplicaReport {
  readonly replicaId: string;
  /** relay, ingress or gateway. */
  readonly role: string;
  readonly version: string;
  readonly startedAtMs: number;
  readonly reportedAtMs: number;
  readonly ready: boolean;
  /** Why `/readyz` says 503, when it does. */
  readonly notReadyReason?: string;
  readonly activity: ActivitySnapshot;
}

/**
 * Every live replica's latest report. A report lasts `ttlMs` after it was written, so a replica that died without
 * a word disappears by itself; one that shuts down withdraws its own. Memory and Redis implementations pass one
 * contract suite (test/replica-reports.contract.ts).
 */
export interface ReplicaReports {
  /** Writes (or replaces) this replica's report, to be forgotten after `ttlMs` unless written again. */
  write(report: ReplicaReport, ttlMs: number): Promise<void>;
  /** Every report still live, in no particular order. */
  all(): Promise<ReplicaReport[]>;
  /** Removes a replica's report at once (it is shutting down). */
  withdraw(replicaId: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryReplicaReports implements ReplicaReports {
  private readonly reports = new Map<string, { report: ReplicaReport; expiresAtMs: number }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  async write(report: ReplicaReport, ttlMs: number): Promise<void> {
    this.reports.set(report.replicaId, { report, expiresAtMs: this.nowMs() + ttlMs });
  }

  async all(): Promise<ReplicaReport[]> {
    const now = this.nowMs();
    const live: ReplicaReport[] = [];
    for (const [id, { report, expiresAtMs }] of this.reports) {
      if (expiresAtMs > now) live.push(report);
      else this.reports.delete(id);
    }
    return live;
  }

  async withdraw(replicaId: string): Promise<void> {
    this.reports.delete(replicaId);
  }

  async close(): Promise<void> {}
}

/** How many replicas one read looks at: far more than any deployment runs, and a bound on the work. */
const MAX_REPLICAS = 200;

/**
 * One string per replica with its own expiry (`hookway:{replicas}:<id>`, JSON), and a sorted set of replica ids
 * (`hookway:{replicas}`, scored by when each report expires) so readers need no SCAN. Redis's own expiry of the
 * string decides liveness; the set is only an index, pruned as it is read.
 */
export class RedisReplicaReports implements ReplicaReports {
  constructor(
    private readonly connection: RedisConnection,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async write(report: ReplicaReport, ttlMs: number): Promise<void> {
    const { client } = this.connection;
    await this.connection.run(
      client
        .multi()
        .set(redisKeys.replicaReport(report.replicaId), JSON.stringify(report), 'PX', ttlMs)
        .zadd(redisKeys.replicas(), this.nowMs() + ttlMs, report.replicaId)
        .pexpire(redisKeys.replicas(), ttlMs * 4)
        .exec(),
    );
  }

  async all(): Promise<ReplicaReport[]> {
    const { client } = this.connection;
    // Entries a while past their expiry belong to replicas that died (their strings are gone too); clocks differ
    // a little between replicas, so the index keeps them a minute longer than their strings.
    await this.connection.run(client.zremrangebyscore(redisKeys.replicas(), '-inf', this.nowMs() - 60_000));
    const ids = await this.connection.run(client.zrevrange(redisKeys.replicas(), 0, MAX_REPLICAS - 1));
    if (ids.length === 0) return [];
    const values = await this.connection.run(client.mget(ids.map((id) => redisKeys.replicaReport(id))));
    const reports: ReplicaReport[] = [];
    for (const value of values) {
      const report = value === null ? undefined : parseReport(value);
      if (report) reports.push(report);
    }
    return reports;
  }

  async withdraw(replicaId: string): Promise<void> {
    const { client } = this.connection;
    await this.connection.run(client.multi().del(redisKeys.replicaReport(replicaId)).zrem(redisKeys.replicas(), replicaId).exec());
  }

  /** The shared connection stays with its owner. */
  async close(): Promise<void> {}
}

/** Redis is trusted, but a report from another version (or a hand edit) must not break the page. */
function parseReport(value: string): ReplicaReport | undefined {
  try {
    const report = JSON.parse(value) as Partial<ReplicaReport>;
    if (typeof report.replicaId !== 'string' || typeof report.role !== 'string' || typeof report.activity !== 'object') return undefined;
    if (!Array.isArray(report.activity?.bots) || !Array.isArray(report.activity.unattributed)) return undefined;
    return report as ReplicaReport;
  } catch {
    return undefined;
  }
}

export function openReplicaReports(backend: StoreBackend): ReplicaReports {
  return backend.kind === 'redis' ? new RedisReplicaReports(backend.connection) : new MemoryReplicaReports();
}
