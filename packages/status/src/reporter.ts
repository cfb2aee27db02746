import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@hookway/runtime';
import type { ActivityRecorder } from './activity.ts';
import { mergeReports, type StatusData } from './merge.ts';
import type { ReplicaReport, ReplicaReports } from './replica-reports.ts';
import { HOOKWAY_VERSION } from './version.ts';

export interface StatusReporterParts {
  readonly role: string;
  readonly activity: ActivityRecorder;
  readonly reports: ReplicaReports;
  /** The process's readiness, as `/readyz` sees it. */
  readonly notReadyReason: () => string | undefined;
  /** STATUS_REPORT_INTERVAL_MS; a report lives three intervals. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly replicaId?: string;
  readonly nowMs?: () => number;
}

/** How many intervals a report outlives its writing: one missed write is not a dead replica. */
const TTL_INTERVALS = 3;

/**
 * Writes this process's report every interval (an unref'd timer) and merges everyone's for the page. The answering
 * replica's own part is always taken fresh, not from the store. Closing withdraws the report.
 */
export class StatusReporter {
  readonly replicaId: string;
  private readonly nowMs: () => number;
  private readonly startedAtMs: number;
  private readonly timer: NodeJS.Timeout;
  private writeFailing = false;
  private closed = false;

  constructor(private readonly parts: StatusReporterParts) {
    this.nowMs = parts.nowMs ?? Date.now;
    this.startedAtMs = this.nowMs();
    this.replicaId = parts.replicaId ?? `${parts.role}-${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.timer = setInterval(() => this.publish(), parts.intervalMs).unref();
    // The first report once the caller has finished building the process (readiness may need what comes after).
    setImmediate(() => this.publish()).unref();
  }

  /** This process's report, as of now. */
  report(): ReplicaReport {
    const reason = this.parts.notReadyReason();
    return {
      replicaId: this.replicaId,
      role: this.parts.role,
      version: HOOKWAY_VERSION,
      startedAtMs: this.startedAtMs,
      reportedAtMs: this.nowMs(),
      ready: reason === undefined,
      ...(reason !== undefined ? { notReadyReason: reason } : {}),
      activity: this.parts.activity.snapshot(),
    };
  }

  /** Every live replica, merged; this one fresh. A store that cannot be read leaves this replica alone on the page. */
  async collect(): Promise<StatusData> {
    const own = this.report();
    let others: ReplicaReport[] = [];
    let reportsError: string | undefined;
    try {
      others = (await this.parts.reports.all()).filter((r) => r.replicaId !== this.replicaId);
    } catch (err) {
      reportsError = `the other replicas' reports cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    }
    const data = mergeReports([own, ...others], this.replicaId, this.nowMs(), this.parts.intervalMs * 2);
    return reportsError === undefined ? data : { ...data, reportsError };
  }

  private publish(): void {
    if (this.closed) return;
    this.parts.reports.write(this.report(), this.parts.intervalMs * TTL_INTERVALS).then(
      () => {
        if (this.writeFailing) this.parts.logger.info('status report written again');
        this.writeFailing = false;
      },
      (err: unknown) => {
        // Once per outage: the store's own health already says Redis is down.
        if (!this.writeFailing) this.parts.logger.warn({ err }, 'could not write the status report');
        this.writeFailing = true;
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    try {
      await this.parts.reports.withdraw(this.replicaId);
    } catch {
      // Gone anyway once its expiry passes.
    }
  }
}
