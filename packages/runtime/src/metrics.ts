import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ActivityLog } from './activity-log.ts';
import type { HealthSource } from './health.ts';
import { CounterTally, HistogramTally } from './metric-tallies.ts';

/** The two kinds of WebSocket client: `/ws` (raw) and `/websocket` (the official gateway protocol). */
export type ClientMode = 'raw' | 'gateway';

/** What the ingress records: every webhook's outcome, how long publishing took, the OpenAPI pass-through's answers. */
export interface IngressMetrics {
  /** One webhook answered (or refused); `bot` is the bot's BotTag when known — never the secret. */
  webhook(outcome: string, bot: string | undefined): void;
  /** One `events.publish` call: its duration and result. */
  published(seconds: number, result: 'accepted' | 'duplicate' | 'failed'): void;
  /** One OpenAPI pass-through request's answer: its status (`undefined` when upstream could not be reached). */
  openApiAnswered(status: number | undefined): void;
}

/** What the gateway records, and what it lets the metrics read when scraped. */
export interface GatewayMetrics {
  /** `frames` frames of one event written to clients of one mode (one call per event, not per frame). */
  delivered(mode: ClientMode, bot: string, acceptedAtMs: number, frames?: number): void;
  /** A client's socket closed with this code. */
  clientClosed(mode: ClientMode, code: number): void;
  /** Read at every scrape (and by the activity log): connected clients, bot feeds, gap counters. */
  watchGateway(source: GatewayMetricsSource): void;
}

export interface GatewayMetricsSource {
  clientsByMode(): Readonly<Record<ClientMode, number>>;
  /** One entry per bot with local clients: its tag, how many clients, the last stream number passed on, its fan-out backlog. */
  feeds(): readonly {
    readonly bot: string;
    readonly clients: number;
    readonly seq: number | undefined;
    readonly backlogBytes?: number;
  }[];
  gaps(): { readonly backfilled: number; readonly lost: number };
}

/** At most this many distinct bot label values per process; later bots are counted under `other`. */
export const MAX_BOT_LABELS = 100;

export interface MetricsOptions {
  /** Fed the same per-bot counts, for the minute-by-minute activity line. */
  readonly activity?: ActivityLog;
  readonly maxBotLabels?: number;
  readonly nowMs?: () => number;
}

/** Bot tags as label values, up to a fixed number; a scrape can never grow without bound. */
export class BotLabels {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  label(bot: string | undefined): string {
    if (bot === undefined) return 'none';
    if (this.seen.has(bot)) return bot;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(bot);
    return bot;
  }

  /** A label already given, else `unverified`: for what anyone can send with any secret (op 13, refusals). */
  known(bot: string | undefined): string {
    if (bot === undefined) return 'none';
    return this.seen.has(bot) ? bot : 'unverified';
  }
}

/** Outcomes that prove the webhook's secret is a bot's (its signature verified): only they may add a bot label. */
const VERIFIED_OUTCOMES = new Set(['accepted', 'duplicate']);

/** A close code as a label: the standard and application ranges as themselves, anything else as `other`. */
export function closeCodeLabel(code: number): string {
  return (code >= 1000 && code <= 1015) || (code >= 4000 && code <= 4199) ? String(code) : 'other';
}

const statusClass = (status: number | undefined) =>
  status === undefined ? 'unreachable' : status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';

/**
 * The default process metrics (RSS, CPU, heap, event-loop lag), once per process: their collectors start timers and
 * observers, so they are made on the first scrape and shared by every registry in the process.
 */
let processRegistry: Registry | undefined;
const processMetrics = (): Registry => {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
};

/**
 * One registry per service instance (not prom-client's global one, so a test can run several relays in a process),
 * every metric Hookway exports, and the narrow recording interfaces the ingress and the gateway are given.
 */
export class Metrics implements IngressMetrics, GatewayMetrics {
  readonly registry = new Registry();
  private readonly bots: BotLabels;
  private readonly nowMs: () => number;
  private readonly activity: ActivityLog | undefined;
  private readonly gateways: GatewayMetricsSource[] = [];
  private readonly stores: HealthSource[] = [];
  private readiness: (() => boolean) | undefined;

  // What every event touches is tallied here and handed to prom-client at scrape time (metric-tallies.ts).
  private readonly webhooks: CounterTally<'outcome', 'bot'>;
  private readonly publishSeconds: HistogramTally<'result'>;
  private readonly deliveredTotal: CounterTally<'mode', 'bot'>;
  private readonly deliverySeconds: HistogramTally<'mode'>;
  private readonly closes: Counter<'mode' | 'code'>;
  private readonly openApi: Counter<'status_class'>;

  constructor(options: MetricsOptions = {}) {
    this.bots = new BotLabels(options.maxBotLabels ?? MAX_BOT_LABELS);
    this.nowMs = options.nowMs ?? Date.now;
    this.activity = options.activity;
    const registers = [this.registry];
    // The collect callbacks run with `this` bound to their metric: they reach this instance through these.
    const gateways = this.gateways;
    const stores = this.stores;
    const bots = this.bots;
    const readiness = () => this.readiness;

    this.webhooks = new CounterTally({
      name: 'hookway_webhooks_total',
      help: 'Webhooks by outcome (accepted, duplicate, validated = op 13, bad_signature, unknown_bot, …) and bot tag (unverified: a secret no verified event has proved yet).',
      labelNames: ['outcome', 'bot'],
      registers,
    });
    this.publishSeconds = new HistogramTally({
      name: 'hookway_publish_duration_seconds',
      help: 'Time to store and announce one verified event on the event log (memory or Redis).',
      labelName: 'result',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.deliveredTotal = new CounterTally({
      name: 'hookway_events_delivered_total',
      help: 'Event frames written to clients, by client mode (raw, gateway) and bot tag.',
      labelNames: ['mode', 'bot'],
      registers,
    });
    this.deliverySeconds = new HistogramTally({
      name: 'hookway_delivery_latency_seconds',
      help: 'From the webhook being accepted to its frames being written to clients: one observation per event and mode when its fan-out ends (the last client written), one per frame for replays after a reconnect.',
      labelName: 'mode',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.closes = new Counter({
      name: 'hookway_client_closes_total',
      help: 'WebSocket clients gone, by mode and close code (4100 slow, 4101 gap, 4009 reconnect, 1006 dropped, …).',
      labelNames: ['mode', 'code'],
      registers,
    });
    this.openApi = new Counter({
      name: 'hookway_openapi_requests_total',
      help: 'OpenAPI pass-through requests by the status class upstream answered (unreachable: no answer).',
      labelNames: ['status_class'],
      registers,
    });
    new Gauge({
      name: 'hookway_clients',
      help: 'Connected WebSocket clients by mode.',
      labelNames: ['mode'],
      registers,
      collect() {
        const totals = { raw: 0, gateway: 0 };
        for (const g of gateways) {
          const counts = g.clientsByMode();
          totals.raw += counts.raw;
          totals.gateway += counts.gateway;
        }
        this.set({ mode: 'raw' }, totals.raw);
        this.set({ mode: 'gateway' }, totals.gateway);
      },
    });
    new Gauge({
      name: 'hookway_feed_position',
      help: 'Per bot with clients here: the last stream number this process passed on (its rate is events per second).',
      labelNames: ['bot'],
      registers,
      collect() {
        this.reset();
        for (const g of gateways)
          for (const feed of g.feeds()) if (feed.seq !== undefined) this.set({ bot: bots.label(feed.bot) }, feed.seq);
      },
    });
    new Gauge({
      name: 'hookway_fanout_backlog_bytes',
      help: 'Per bot with clients here: event bytes waiting to be written to its clients (FANOUT_BACKLOG_MAX_BYTES bounds it).',
      labelNames: ['bot'],
      registers,
      collect() {
        this.reset();
        for (const g of gateways) for (const feed of g.feeds()) this.set({ bot: bots.label(feed.bot) }, feed.backlogBytes ?? 0);
      },
    });
    new Counter({
      name: 'hookway_feed_gaps_total',
      help: 'Gaps a bot feed noticed in its live stream: backfilled from history, or lost (clients told to resume).',
      labelNames: ['result'],
      registers,
      collect() {
        let backfilled = 0;
        let lost = 0;
        for (const g of gateways) {
          const gaps = g.gaps();
          backfilled += gaps.backfilled;
          lost += gaps.lost;
        }
        this.reset();
        this.inc({ result: 'backfilled' }, backfilled);
        this.inc({ result: 'lost' }, lost);
      },
    });
    new Gauge({
      name: 'hookway_store_ready',
      help: "1 when the event log's store can take events (with REDIS_URL: Redis command and subscriber connections ready), else 0.",
      registers,
      collect() {
        if (stores.length > 0) this.set(stores.every((s) => s.notReadyReason() === undefined) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hookway_ready',
      help: '1 while /readyz answers 200, else 0 (shutting down, store not ready).',
      registers,
      collect() {
        const ready = readiness();
        if (ready) this.set(ready() ? 1 : 0);
      },
    });
    const storeCounter = (name: string, stat: string, help: string) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          let total = 0;
          for (const s of stores) total += s.stats()[stat] ?? 0;
          this.reset();
          this.inc(total);
        },
      });
    storeCounter(
      'hookway_redis_resyncs_total',
      'redisResyncs',
      'Times every bot feed resynced from history (the Redis subscriber reconnected or failed a probe).',
    );
    storeCounter(
      'hookway_redis_command_timeouts_total',
      'redisCommandTimeouts',
      'Redis commands that timed out (REDIS_COMMAND_TIMEOUT_MS).',
    );
    storeCounter('hookway_redis_probe_failures_total', 'redisProbeFailures', 'Subscriber probes not heard back (REDIS_PROBE_INTERVAL_MS).');
  }

  webhook(outcome: string, bot: string | undefined): void {
    this.webhooks.inc(outcome, VERIFIED_OUTCOMES.has(outcome) ? this.bots.label(bot) : this.bots.known(bot));
    if (bot === undefined) return;
    if (outcome === 'accepted') this.activity?.count(bot, 'accepted');
    else if (outcome === 'duplicate') this.activity?.count(bot, 'duplicates');
  }

  published(seconds: number, result: 'accepted' | 'duplicate' | 'failed'): void {
    this.publishSeconds.observe(result, seconds);
  }

  openApiAnswered(status: number | undefined): void {
    this.openApi.inc({ status_class: statusClass(status) });
  }

  delivered(mode: ClientMode, bot: string, acceptedAtMs: number, frames = 1): void {
    this.deliveredTotal.inc(mode, this.bots.label(bot), frames);
    this.deliverySeconds.observe(mode, Math.max(0, this.nowMs() - acceptedAtMs) / 1000);
    this.activity?.count(bot, 'delivered', frames);
  }

  clientClosed(mode: ClientMode, code: number): void {
    this.closes.inc({ mode, code: closeCodeLabel(code) });
  }

  watchGateway(source: GatewayMetricsSource): void {
    this.gateways.push(source);
    this.activity?.watchClients(() => source.feeds());
  }

  /** The event log's health (its readiness and, with Redis, its counters). */
  watchStores(source: HealthSource): void {
    this.stores.push(source);
  }

  /** Whether the process answers /readyz with 200. */
  watchReadiness(ready: () => boolean): void {
    this.readiness = ready;
  }

  /** The Prometheus text exposition: this instance's metrics and the process's. */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** Stops the activity line's timer. */
  close(): void {
    this.activity?.close();
  }
}
