import type { BotActivity, ClientRecord, RejectionRecord } from './activity.ts';
import { MAX_BOTS_LISTED, MAX_CLIENTS_LISTED, REJECTIONS_KEPT } from './activity.ts';
import type { ReplicaReport } from './replica-reports.ts';

export type ReplicaHealth = 'ready' | 'not_ready' | 'stale';

export interface ReplicaSummary {
  readonly replicaId: string;
  readonly role: string;
  readonly version: string;
  readonly uptimeSec: number;
  readonly health: ReplicaHealth;
  readonly notReadyReason?: string;
  readonly reportedAtMs: number;
  readonly clients: number;
  /** The replica that answered this request. */
  readonly self: boolean;
}

export type MergedClient = ClientRecord & { readonly replicaId: string };
export type MergedRejection = RejectionRecord & { readonly replicaId: string };

export interface MergedBot extends Omit<BotActivity, 'clients' | 'rejections'> {
  readonly clients: readonly MergedClient[];
  readonly rejections: readonly MergedRejection[];
}

/** What `GET /status/data` answers: every live replica's activity, merged per bot. */
export interface StatusData {
  readonly generatedAtMs: number;
  readonly replicas: readonly ReplicaSummary[];
  readonly bots: readonly MergedBot[];
  readonly botsOmitted: number;
  readonly unattributed: readonly MergedRejection[];
  /** Set when the other replicas' reports could not be read (only this replica is shown). */
  readonly reportsError?: string;
}

const newestFirst = (a: { atMs: number }, b: { atMs: number }) => b.atMs - a.atMs;

/**
 * One view of all replicas: per bot, counts add up, the latest event and validation win, clients and rejections
 * are listed with the replica that saw them (bounded as each replica's own lists are). `self` is the replica
 * answering; a report older than `staleAfterMs` is shown as stale rather than trusted as healthy.
 */
export function mergeReports(reports: readonly ReplicaReport[], selfId: string, nowMs: number, staleAfterMs: number): StatusData {
  const bots = new Map<
    string,
    {
      bot: string;
      appid?: string;
      lastEvent?: BotActivity['lastEvent'];
      eventsLast5Min: number;
      eventsTotal: number;
      validations: number;
      lastValidationAtMs?: number;
      clients: MergedClient[];
      clientsTotal: number;
      rejections: MergedRejection[];
    }
  >();
  let botsOmitted = 0;
  const unattributed: MergedRejection[] = [];
  const replicas: ReplicaSummary[] = [];

  for (const report of reports) {
    const { replicaId } = report;
    let clients = 0;
    for (const b of report.activity.bots) {
      clients += b.clientsTotal;
      let m = bots.get(b.bot);
      if (!m)
        bots.set(
          b.bot,
          (m = { bot: b.bot, eventsLast5Min: 0, eventsTotal: 0, validations: 0, clients: [], clientsTotal: 0, rejections: [] }),
        );
      if (b.appid !== undefined) m.appid ??= b.appid;
      if (b.lastEvent && (!m.lastEvent || b.lastEvent.atMs > m.lastEvent.atMs)) m.lastEvent = b.lastEvent;
      if (b.lastValidationAtMs !== undefined && (m.lastValidationAtMs ?? -1) < b.lastValidationAtMs)
        m.lastValidationAtMs = b.lastValidationAtMs;
      m.eventsLast5Min += b.eventsLast5Min;
      m.eventsTotal += b.eventsTotal;
      m.validations += b.validations;
      m.clientsTotal += b.clientsTotal;
      for (const c of b.clients) m.clients.push({ ...c, replicaId });
      for (const r of b.rejections) m.rejections.push({ ...r, replicaId });
    }
    botsOmitted += report.activity.botsOmitted;
    for (const r of report.activity.unattributed) unattributed.push({ ...r, replicaId });
    const stale = nowMs - report.reportedAtMs > staleAfterMs;
    replicas.push({
      replicaId,
      role: report.role,
      version: report.version,
      uptimeSec: Math.max(0, Math.round((nowMs - report.startedAtMs) / 1000)),
      health: stale ? 'stale' : report.ready ? 'ready' : 'not_ready',
      ...(report.notReadyReason !== undefined ? { notReadyReason: report.notReadyReason } : {}),
      reportedAtMs: report.reportedAtMs,
      clients,
      self: replicaId === selfId,
    });
  }

  const merged = [...bots.values()]
    .map((m) => ({
      ...m,
      clients: m.clients.sort((a, b) => a.sinceMs - b.sinceMs).slice(0, MAX_CLIENTS_LISTED),
      rejections: m.rejections.sort(newestFirst).slice(0, REJECTIONS_KEPT),
    }))
    .sort((a, b) => (b.lastEvent?.atMs ?? 0) - (a.lastEvent?.atMs ?? 0) || b.clientsTotal - a.clientsTotal || a.bot.localeCompare(b.bot));
  return {
    generatedAtMs: nowMs,
    replicas: replicas.sort((a, b) => a.role.localeCompare(b.role) || a.replicaId.localeCompare(b.replicaId)),
    bots: merged.slice(0, MAX_BOTS_LISTED),
    botsOmitted: botsOmitted + Math.max(0, merged.length - MAX_BOTS_LISTED),
    unattributed: unattributed.sort(newestFirst).slice(0, REJECTIONS_KEPT),
  };
}
