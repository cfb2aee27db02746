import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-answers.ts';

/** Something that can say whether it is ready and report a few counters for `/healthz` and `/readyz`. */
export interface HealthSource {
  /** Why this part cannot take traffic now, or undefined when it can. */
  notReadyReason(): string | undefined;
  stats(): Record<string, number>;
}

export interface HealthOptions {
  readonly sources: readonly HealthSource[];
  readonly nowMs?: () => number;
}

/**
 * Answers `GET /healthz` (liveness: the process serves requests) and `GET /readyz` (readiness: it can accept
 * events now). A plain node:http handler so every role — with or without express — serves the same thing.
 */
export function createHealthHandler(options: HealthOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const nowMs = options.nowMs ?? Date.now;
  const startedAtMs = nowMs();
  const report = () => {
    const merged: Record<string, number> = {};
    for (const source of options.sources) Object.assign(merged, source.stats());
    return { uptimeSec: Math.round((nowMs() - startedAtMs) / 1000), ...merged };
  };
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') {
      send(res, 200, { status: 'ok', ...report() });
      return true;
    }
    if (path === '/readyz') {
      const reasons = [...new Set(options.sources.map((s) => s.notReadyReason()).filter((r): r is string => r !== undefined))];
      send(res, reasons.length === 0 ? 200 : 503, {
        status: reasons.length === 0 ? 'ready' : 'not_ready',
        ...(reasons.length > 0 ? { reasons } : {}),
        ...report(),
      });
      return true;
    }
    return false;
  };
}

function send(res: ServerResponse, status: number, body: object): void {
  sendJson(res, status, body, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
}
