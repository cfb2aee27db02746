import type { Logger } from 'pino';

/** A newcomer should see that events flow: one line per active bot per minute. */
export const ACTIVITY_LOG_INTERVAL_MS = 60_000;

type Kind = 'accepted' | 'duplicates' | 'delivered';
type Counts = Record<Kind, number>;

/** Bots with activity in one interval are kept at most this many; the rest are summed into one `other` line. */
const MAX_BOTS_PER_INTERVAL = 1000;

export interface ActivityLogOptions {
  readonly intervalMs?: number;
}

/**
 * Per bot: webhooks accepted, duplicates, frames delivered in the last interval, and clients connected now — one
 * info line per bot that had any event in the interval, nothing for idle bots. Fed by the process's metrics; the
 * clients come from the gateway's feeds (an ingress-only process has no `clients` field).
 */
export class ActivityLog {
  private counts = new Map<string, Counts>();
  private readonly clientSources: (() => readonly { bot: string; clients: number }[])[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly intervalSec: number;

  constructor(
    private readonly logger: Logger,
    options: ActivityLogOptions = {},
  ) {
    const intervalMs = options.intervalMs ?? ACTIVITY_LOG_INTERVAL_MS;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
    this.intervalSec = Math.round(intervalMs / 1000);
  }

  count(bot: string, kind: Kind, n = 1): void {
    let counts = this.counts.get(bot);
    if (!counts) {
      const key = this.counts.size >= MAX_BOTS_PER_INTERVAL ? 'other' : bot;
      counts = this.counts.get(key) ?? { accepted: 0, duplicates: 0, delivered: 0 };
      this.counts.set(key, counts);
    }
    counts[kind] += n;
  }

  watchClients(source: () => readonly { bot: string; clients: number }[]): void {
    this.clientSources.push(source);
  }

  /** Writes the interval's lines and starts a new interval (the timer calls it; tests may too). */
  flush(): void {
    const counts = this.counts;
    if (counts.size === 0) return;
    this.counts = new Map();
    const clients = new Map<string, number>();
    for (const source of this.clientSources)
      for (const feed of source()) clients.set(feed.bot, (clients.get(feed.bot) ?? 0) + feed.clients);
    for (const [bot, c] of counts) {
      const withClients = this.clientSources.length > 0 ? { clients: clients.get(bot) ?? 0 } : {};
      this.logger.info({ bot, ...c, ...withClients, intervalSec: this.intervalSec }, `activity in the last ${this.intervalSec} s`);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
