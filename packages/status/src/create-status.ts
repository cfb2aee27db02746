import type { IncomingMessage, ServerResponse } from 'node:http';
import { createProxyTrust, type AuthFailureThrottle, type Config, type Logger } from '@hookway/runtime';
import { ActivityRecorder } from './activity.ts';
import type { ReplicaReports } from './replica-reports.ts';
import { StatusReporter } from './reporter.ts';
import { createStatusRoutes } from './status-http.ts';

export interface StatusParts {
  readonly role: string;
  readonly config: Pick<Config, 'adminToken' | 'statusReportIntervalMs' | 'trustProxy'>;
  readonly reports: ReplicaReports;
  readonly logger: Logger;
  readonly authFailures: AuthFailureThrottle;
  /** The process's readiness (the HTTP service's, built after this: called only later). */
  readonly notReadyReason: () => string | undefined;
  readonly nowMs?: () => number;
}

export interface Status {
  /** What the ingress and the gateway report to. */
  readonly activity: ActivityRecorder;
  readonly reporter: StatusReporter;
  /** Serves the status paths and answers true, or answers false for the caller to serve the request. */
  readonly routes: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** `handleRequest` with the status paths in front of it. */
  wrap(handleRequest: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
  /** Stops reporting and withdraws this replica's report (before the store it writes to is closed). */
  close(): Promise<void>;
}

/** One process's part of the status page: the activity it records, its report to the others, and the HTTP routes. */
export function createStatus(parts: StatusParts): Status {
  const activity = new ActivityRecorder(parts.nowMs);
  const reporter = new StatusReporter({
    role: parts.role,
    activity,
    reports: parts.reports,
    notReadyReason: parts.notReadyReason,
    intervalMs: parts.config.statusReportIntervalMs,
    logger: parts.logger,
    ...(parts.nowMs ? { nowMs: parts.nowMs } : {}),
  });
  const routes = createStatusRoutes({
    adminToken: parts.config.adminToken,
    trust: createProxyTrust(parts.config.trustProxy),
    authFailures: parts.authFailures,
    data: () => reporter.collect(),
  });
  return {
    activity,
    reporter,
    routes,
    wrap: (handleRequest) => (req, res) => {
      if (!routes(req, res)) handleRequest(req, res);
    },
    close: () => reporter.close(),
  };
}
