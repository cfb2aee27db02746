/**
 * What this process saw happen, per bot, for the status page: verified events, op 13 validations, refusals and the
 * clients connected here. Everything is bounded (bots tracked, rejections kept, the five-minute window is a ring of
 * buckets), so a flood of refusals or bots costs a fixed amount of memory. Bots are named by their tag
 * (`bot:1a2b3c4d`) — never a secret; rejections carry a reason code and an address, never a body.
 */

export type ClientMode = 'raw' | 'gateway';

export interface RejectionRecord {
  readonly atMs: number;
  /** The refusal's error code (`bad_signature`, `unknown_bot`, …). */
  readonly reason: string;
  /** The client's address by the TRUST_PROXY rule. */
  readonly address: string;
}

export interface ClientRecord {
  readonly mode: ClientMode;
  readonly address: string;
  readonly sinceMs: number;
  /** The name of the client key it was admitted with (never the key). */
  readonly key?: string;
}

export interface BotActivity {
  readonly bot: string;
  readonly appid?: string;
  readonly lastEvent?: { readonly atMs: number; readonly type?: string };
  readonly eventsLast5Min: number;
  readonly eventsTotal: number;
  readonly validations: number;
  readonly lastValidationAtMs?: number;
  /** At most MAX_CLIENTS_LISTED of them; `clientsTotal` is the real count. */
  readonly clients: readonly ClientRecord[];
  readonly clientsTotal: number;
  /** Newest first. */
  readonly rejections: readonly RejectionRecord[];
}

export interface ActivitySnapshot {
  /** Most recently active first, at most MAX_BOTS_LISTED. */
  readonly bots: readonly BotActivity[];
  /** Bots left out of `bots` by the cap. */
  readonly botsOmitted: number;
  /** Refusals that name no bot (unknown X-Bot-Appid, throttled, over budget, …), newest first. */
  readonly unattributed: readonly RejectionRecord[];
}

/** Hooks the ingress calls (a narrow view: the ingress knows nothing else of this module). */
export interface WebhookActivity {
  verified(bot: string, type: string | undefined, appid: string | undefined): void;
  validated(bot: string): void;
  rejected(bot: string | undefined, reason: string, address: string): void;
}

/** Hooks the gateway calls: a client is connected until the returned connection's `disconnected` is called. */
export interface ClientActivity {
  connected(bot: string, client: ClientRecord & { readonly appid?: string }): ClientConnection;
}

/** A client on the status page, until it is taken off. */
export interface ClientConnection {
  disconnected(): void;
}

export const WINDOW_MS = 5 * 60_000;
const BUCKET_MS = 10_000;
const BUCKETS = WINDOW_MS / BUCKET_MS;
export const REJECTIONS_KEPT = 20;
/** Bots remembered by one process; past it the one idle longest is forgotten (unless it has clients here). */
const MAX_BOTS_TRACKED = 1000;
export const MAX_BOTS_LISTED = 100;
export const MAX_CLIENTS_LISTED = 25;

/** Events per 10 s bucket over the last five minutes: a fixed ring, whatever the rate. */
class EventWindow {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly starts = new Array<number>(BUCKETS).fill(-1);

  add(nowMs: number): void {
    const start = nowMs - (nowMs % BUCKET_MS);
    const i = Math.floor(start / BUCKET_MS) % BUCKETS;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  total(nowMs: number): number {
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.starts[i]! > nowMs - WINDOW_MS) sum += this.counts[i]!;
    return sum;
  }
}

/** A bounded newest-last list. */
class Recent<T> {
  private readonly items: T[] = [];
  constructor(private readonly cap: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.cap) this.items.shift();
  }
  newestFirst(): T[] {
    return [...this.items].reverse();
  }
}

class BotState {
  appid: string | undefined;
  lastEvent: { atMs: number; type?: string } | undefined;
  readonly window = new EventWindow();
  eventsTotal = 0;
  validations = 0;
  lastValidationAtMs: number | undefined;
  readonly clients = new Set<ConnectedClient>();
  readonly rejections = new Recent<RejectionRecord>(REJECTIONS_KEPT);
  lastActiveMs = 0;
}

/**
 * One connected client: its record and the handle that takes it off, in one object — a record, a closure and the
 * closure's context made ~160 bytes of every idle connection (docs/benchmarks.md, "Idle connections: where the RSS
 * goes"). Listed as a plain ClientRecord.
 */
class ConnectedClient implements ClientConnection {
  constructor(
    private readonly nowMs: () => number,
    private readonly state: BotState,
    private readonly mode: ClientMode,
    private readonly address: string,
    private readonly sinceMs: number,
    private readonly key: string | undefined,
  ) {}

  disconnected(): void {
    this.state.clients.delete(this);
    this.state.lastActiveMs = this.nowMs();
  }

  record(): ClientRecord {
    const { mode, address, sinceMs, key } = this;
    return key !== undefined ? { mode, address, sinceMs, key } : { mode, address, sinceMs };
  }
}

export class ActivityRecorder implements WebhookActivity, ClientActivity {
  private readonly bots = new Map<string, BotState>();
  /** The bot last moved to the end of `bots` (the most recently active). */
  private newestBot: string | undefined;
  private readonly unattributed = new Recent<RejectionRecord>(REJECTIONS_KEPT);

  constructor(private readonly nowMs: () => number = Date.now) {}

  verified(bot: string, type: string | undefined, appid: string | undefined): void {
    const now = this.nowMs();
    const state = this.state(bot, now);
    state.lastEvent = type === undefined ? { atMs: now } : { atMs: now, type };
    state.window.add(now);
    state.eventsTotal++;
    if (appid !== undefined) state.appid = appid;
  }

  validated(bot: string): void {
    const now = this.nowMs();
    const state = this.state(bot, now);
    state.validations++;
    state.lastValidationAtMs = now;
  }

  rejected(bot: string | undefined, reason: string, address: string): void {
    const now = this.nowMs();
    const record = { atMs: now, reason, address };
    if (bot === undefined) this.unattributed.push(record);
    else this.state(bot, now).rejections.push(record);
  }

  connected(bot: string, client: ClientRecord & { readonly appid?: string }): ClientConnection {
    const state = this.state(bot, this.nowMs());
    if (client.appid !== undefined) state.appid ??= client.appid;
    const connection = new ConnectedClient(this.nowMs, state, client.mode, client.address, client.sinceMs, client.key);
    state.clients.add(connection);
    return connection;
  }

  /** Connected clients of every bot, for the replica's own summary. */
  get clientCount(): number {
    let n = 0;
    for (const state of this.bots.values()) n += state.clients.size;
    return n;
  }

  snapshot(): ActivitySnapshot {
    const now = this.nowMs();
    // Bots with a verified event first: anyone can send op 13 or a bad signature, or connect /ws, with any secret.
    const verified = (s: BotState) => (s.eventsTotal > 0 ? 1 : 0);
    const ordered = [...this.bots.entries()].sort(
      ([, a], [, b]) => verified(b) - verified(a) || b.clients.size - a.clients.size || b.lastActiveMs - a.lastActiveMs,
    );
    const listed = ordered.slice(0, MAX_BOTS_LISTED);
    return {
      bots: listed.map(([bot, s]) => ({
        bot,
        ...(s.appid !== undefined ? { appid: s.appid } : {}),
        ...(s.lastEvent ? { lastEvent: { ...s.lastEvent } } : {}),
        eventsLast5Min: s.window.total(now),
        eventsTotal: s.eventsTotal,
        validations: s.validations,
        ...(s.lastValidationAtMs !== undefined ? { lastValidationAtMs: s.lastValidationAtMs } : {}),
        clients: [...s.clients].slice(0, MAX_CLIENTS_LISTED).map((c) => c.record()),
        clientsTotal: s.clients.size,
        rejections: s.rejections.newestFirst(),
      })),
      botsOmitted: ordered.length - listed.length,
      unattributed: this.unattributed.newestFirst(),
    };
  }

  private state(bot: string, now: number): BotState {
    let state = this.bots.get(bot);
    if (state && bot === this.newestBot) {
      // Already the most recent: the common case of one busy bot skips a Map delete and insert per event.
      state.lastActiveMs = now;
      return state;
    }
    if (state) {
      // Map order is recency order: re-inserting keeps the idlest bot first, to be forgotten first.
      this.bots.delete(bot);
    } else {
      state = new BotState();
      if (this.bots.size >= MAX_BOTS_TRACKED) this.forgetIdlest();
    }
    state.lastActiveMs = now;
    this.bots.set(bot, state);
    this.newestBot = bot;
    return state;
  }

  /** The idlest bot without clients, one never proved by a verified event first (those cost an attacker nothing). */
  private forgetIdlest(): void {
    let idlestVerified: string | undefined;
    for (const [bot, state] of this.bots) {
      if (state.clients.size > 0) continue;
      if (state.eventsTotal === 0) return void this.bots.delete(bot);
      idlestVerified ??= bot;
    }
    if (idlestVerified !== undefined) this.bots.delete(idlestVerified);
  }
}
