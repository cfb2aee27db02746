import { continuesWithoutGap, type BusEvent, type BusSubscription, type EventLog, type StreamPosition } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import type { ClientMode, Logger } from '@hookway/runtime';
import { FanOutScheduler, type FanOutSource } from './fan-out.ts';
import type { FeedClient } from './feed-client.ts';
import { framesOf, type EventFrames } from './frames.ts';

type FeedEventLog = Pick<EventLog, 'subscribe' | 'markDelivered' | 'head' | 'history'>;

export type FeedCounters = { gapsBackfilled: number; gapsLost: number; fanOutBacklogCloses: number };

/** How a gateway's feeds fan out (fan-out.ts), and where they report what they wrote. */
export interface FanOutOptions {
  /** FANOUT_BACKLOG_MAX_BYTES: body bytes one feed may hold queued for its clients before it cuts the ones behind. */
  readonly maxBacklogBytes?: number;
  /** FANOUT_FRAMES_PER_TURN: frames written per event-loop turn, over all feeds, before other I/O gets in. */
  readonly framesPerTurn?: number;
  /** Once per event, after its fan-out: how many frames went to each kind of client (metrics, `framesSent`). */
  readonly onFannedOut?: (bot: AppSecret, event: BusEvent, written: Readonly<Record<ClientMode, number>>) => void;
}

export const DEFAULT_FANOUT_BACKLOG_MAX_BYTES = 1024 * 1024;

/** After a failed history read, how long to wait before trying again (live events queue meanwhile). */
const RESYNC_RETRY_MS = 1000;

/**
 * One bot's live stream on this gateway: one bus subscription shared by all of the bot's local clients.
 *
 * Pub/sub may lose messages (a reconnect, a failover), so the feed checks every event's number against the last
 * one it passed on. A jump, an epoch change or a resync request from the bus makes it read the missing events
 * from the history first; if the history no longer has them, its clients are told to reconnect and resume.
 *
 * An event that passed those checks is not written at once: it joins the feed's backlog, which the gateway's
 * fan-out scheduler writes out in bounded turns (fan-out.ts), in rounds (see fanOut), each event's frames built
 * once. When the backlog grows past `maxBacklogBytes` (the process cannot write as fast as events come), the clients
 * that have not yet had the oldest queued events are closed as slow consumers (they resume from the history with no
 * gap) and those events leave the backlog, until it is back under the bound.
 */
export class BotFeed implements FanOutSource {
  readonly clients = new Set<FeedClient>();
  /** Resolves once the bus subscription is live and the feed knows where the stream is. */
  readonly ready: Promise<void>;
  private subscription: BusSubscription | undefined;
  private stopped = false;
  private position: StreamPosition | undefined;
  /** The event id at `position`, to notice a numbering that went back (a Redis that lost its last writes). */
  private positionEventId: string | undefined;
  private syncing = false;
  private resyncPending = false;
  private queue: BusEvent[] = [];
  private deliveredMark: StreamPosition | undefined;
  private markScheduled = false;
  /** The backlog: the round being written out, then the events queued for the next one. */
  private round: EventFrames[] | undefined;
  private queued: EventFrames[] = [];
  /** Body bytes in the backlog (for the bound and `/healthz`). */
  backlogBytes = 0;
  /** The clients still to visit in this round (a Set iterator: it also visits clients added meanwhile). */
  private cursor: Iterator<FeedClient> | undefined;
  /** Frames written per event of the round: [raw, gateway] pairs. */
  private tally: Uint32Array | undefined;

  constructor(
    readonly bot: AppSecret,
    private readonly events: FeedEventLog,
    private readonly logger: Logger,
    private readonly counters: FeedCounters,
    private readonly scheduler: FanOutScheduler,
    private readonly options: FanOutOptions = {},
  ) {
    this.ready = events
      .subscribe(bot, (event) => this.onEvent(event), { onResync: () => this.resync() })
      .then(async (subscription) => {
        // Stopped while subscribing: release the subscription nobody wants any more.
        if (this.stopped) return void (await subscription.close());
        this.subscription = subscription;
        // Read after subscribing: anything newer than this arrives live; anything older, clients read from history.
        this.position = await events.head(bot);
        // Events that arrived while head() was on its way waited in the queue: pass on the newer ones now.
        this.drainQueue();
      });
  }

  private onEvent(event: BusEvent): void {
    if (this.syncing || this.position === undefined) {
      this.queue.push(event);
      return;
    }
    const at = this.position;
    if (event.epoch === at.epoch) {
      if (event.seq === at.seq && this.numberedAgain(event)) return this.backfill(at, event);
      if (event.seq <= at.seq) return;
      if (event.seq === at.seq + 1) return this.dispatch(event);
      this.backfill(at, event);
    } else if (event.seq === 1) {
      this.dispatch(event);
    } else {
      // A new numbering (Redis restarted empty) whose start we did not see live.
      this.backfill({ epoch: event.epoch, seq: 0 }, event);
    }
  }

  /**
   * Another event under the number we last passed on: the numbering went back (a Redis that lost its last writes
   * numbered a new event the same). The backfill then finds our last event gone and makes the clients resume.
   */
  private numberedAgain(event: BusEvent): boolean {
    return event.eventId !== undefined && this.positionEventId !== undefined && event.eventId !== this.positionEventId;
  }

  /** The bus may have missed events (it reconnected): compare with the history. */
  resync(): void {
    if (this.stopped || this.position === undefined) return;
    if (this.syncing) {
      this.resyncPending = true;
      return;
    }
    this.backfill(this.position);
  }

  private backfill(from: StreamPosition, trigger?: BusEvent): void {
    this.syncing = true;
    if (trigger) this.queue.push(trigger);
    const expectedId =
      from.seq >= 1 && this.position?.epoch === from.epoch && this.position.seq === from.seq ? this.positionEventId : undefined;
    // Read from one before our position: that entry must still be the event we passed on, or the numbering went back.
    this.events
      .history(this.bot, { epoch: from.epoch, seq: Math.max(0, from.seq - 1) })
      .then((slice) => {
        if (this.stopped) return;
        if (!continuesWithoutGap(from, slice.head, slice.events, expectedId)) {
          this.counters.gapsLost++;
          this.logger.warn({ bot: this.bot.tag, from, head: slice.head }, 'events lost upstream; clients will resume');
          for (const client of this.clients) client.lostEvents();
          this.position = slice.head;
          this.positionEventId = slice.events.at(-1)?.seq === slice.head.seq ? slice.events.at(-1)?.eventId : undefined;
          return;
        }
        const missing = slice.events.filter((e) => e.seq > from.seq);
        if (missing.length > 0) this.counters.gapsBackfilled++;
        for (const event of missing) this.dispatch(event);
      })
      .then(
        () => this.drainQueue(),
        (err: unknown) => {
          this.logger.warn({ bot: this.bot.tag, err }, 'history read failed; retrying');
          setTimeout(() => {
            if (!this.stopped) this.backfill(from);
          }, RESYNC_RETRY_MS).unref();
        },
      );
  }

  private drainQueue(): void {
    this.syncing = false;
    const queued = this.queue;
    this.queue = [];
    for (const event of queued) this.onEvent(event);
    if (this.resyncPending && !this.syncing) {
      this.resyncPending = false;
      this.resync();
    }
  }

  /** Passes the event on: into the backlog, written out by the fan-out scheduler — never here, in the publish path. */
  private dispatch(event: BusEvent): void {
    this.position = { epoch: event.epoch, seq: event.seq };
    this.positionEventId = event.eventId;
    if (this.clients.size === 0) return;
    this.queued.push(framesOf(event));
    this.backlogBytes += event.body.length;
    this.scheduler.schedule(this);
  }

  /**
   * Writes at most about `budget` frames; true while events are still queued. The backlog goes out in rounds: a
   * round takes every queued event and visits each client once, handing it all of them (its socket corked, so they
   * leave in one write); events arriving meanwhile wait for the next round. Each client gets round k before round
   * k+1, so per-client order is the feed's order.
   */
  fanOut(budget: number): boolean {
    // Checked here rather than in dispatch: closing many sockets must not happen in the publish path either.
    if (this.backlogBytes > (this.options.maxBacklogBytes ?? DEFAULT_FANOUT_BACKLOG_MAX_BYTES)) this.shed();
    let frames = 0;
    for (;;) {
      if (!this.round) {
        if (this.queued.length === 0) return false;
        this.startRound();
      }
      const round = this.round!;
      const cursor = this.cursor!;
      for (;;) {
        if (frames >= budget) return true;
        const next = cursor.next();
        if (next.done) break;
        frames += round.length;
        this.visit(next.value, round);
      }
      this.finishRound();
    }
  }

  private startRound(): void {
    this.round = this.queued;
    this.queued = [];
    this.cursor = this.clients.values();
    this.tally = new Uint32Array(this.round.length * 2);
  }

  private visit(client: FeedClient, round: readonly EventFrames[]): void {
    const column = client.clientMode === 'raw' ? 0 : 1;
    const tally = this.tally!;
    try {
      if (round.length === 1) {
        if (client.deliver(round[0]!.event, round[0]!)) tally[column]!++;
        return;
      }
      client.hold();
      try {
        for (let i = 0; i < round.length; i++) if (client.deliver(round[i]!.event, round[i]!)) tally[i * 2 + column]!++;
      } finally {
        client.release();
      }
    } catch (err) {
      this.logger.error({ bot: this.bot.tag, err }, 'delivering to a client failed');
    }
  }

  /** Every client has been offered the round (or was cut): its events leave the backlog and are counted. */
  private finishRound(): void {
    const round = this.round!;
    const tally = this.tally!;
    this.round = undefined;
    this.cursor = undefined;
    this.tally = undefined;
    let last: BusEvent | undefined;
    for (let i = 0; i < round.length; i++) {
      const event = round[i]!.event;
      round[i]!.release();
      this.backlogBytes -= event.body.length;
      const raw = tally[i * 2]!;
      const gateway = tally[i * 2 + 1]!;
      if (raw + gateway === 0) continue;
      last = event;
      this.options.onFannedOut?.(this.bot, event, { raw, gateway });
    }
    if (last) this.noteDelivered(last);
  }

  /**
   * Over the bound: every client that has not had the oldest queued events is behind by more than the bound, so it
   * is closed as a slow consumer (it resumes from the history) and those events leave the backlog — until it fits.
   */
  private shed(): void {
    const max = this.options.maxBacklogBytes ?? DEFAULT_FANOUT_BACKLOG_MAX_BYTES;
    const cut = new Set<FeedClient>();
    while (this.backlogBytes > max && (this.round || this.queued.length > 0)) {
      if (!this.round) this.startRound();
      const cursor = this.cursor!;
      for (let next = cursor.next(); !next.done; next = cursor.next()) {
        if (!cut.has(next.value) && next.value.fellBehind()) cut.add(next.value);
      }
      this.finishRound();
    }
    this.counters.fanOutBacklogCloses += cut.size;
    if (cut.size > 0) {
      this.logger.warn(
        { bot: this.bot.tag, clients: cut.size, backlogBytes: this.backlogBytes, maxBacklogBytes: max },
        'fan-out fell behind FANOUT_BACKLOG_MAX_BYTES: clients closed as slow consumers (they resume with after)',
      );
    }
  }

  /** Coalesced to one bus call per turn of the event loop, whatever the event rate. */
  noteDelivered(position: StreamPosition): void {
    if (this.deliveredMark && this.deliveredMark.epoch === position.epoch && this.deliveredMark.seq >= position.seq) {
      return;
    }
    this.deliveredMark = { epoch: position.epoch, seq: position.seq };
    if (this.markScheduled) return;
    this.markScheduled = true;
    setImmediate(() => {
      this.markScheduled = false;
      const mark = this.deliveredMark;
      if (!mark) return;
      this.events.markDelivered(this.bot, mark).catch((err: unknown) => {
        this.logger.warn({ bot: this.bot.tag, err }, 'could not record delivered position');
      });
    });
  }

  /** The last stream number passed on to this feed's clients (undefined until the feed knows the stream). */
  get seq(): number | undefined {
    return this.position?.seq;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.round = undefined;
    this.queued = [];
    this.backlogBytes = 0;
    this.cursor = undefined;
    this.scheduler.forget(this);
    await this.ready.catch(() => undefined);
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.close();
  }
}

/**
 * Subscribes to a bot when its first local client arrives and unsubscribes when its last one leaves, so a
 * gateway holds subscriptions only for bots somebody here listens to. Membership changes are synchronous, so a
 * join racing a leave can never attach a client to a feed that is being stopped.
 */
export class BotFeeds {
  /** By the revealed secret: every AppSecret object for one bot must find the same feed. */
  private readonly feeds = new Map<string, BotFeed>();
  readonly counters: FeedCounters = { gapsBackfilled: 0, gapsLost: 0, fanOutBacklogCloses: 0 };
  private readonly scheduler: FanOutScheduler;

  constructor(
    private readonly events: FeedEventLog,
    private readonly logger: Logger,
    private readonly fanOut: FanOutOptions = {},
  ) {
    this.scheduler = new FanOutScheduler(fanOut.framesPerTurn);
  }

  /** Adds the client to its bot's feed; resolves once live events for the bot will reach it. */
  async join(bot: AppSecret, client: FeedClient): Promise<BotFeed> {
    let feed = this.feeds.get(bot.reveal());
    if (!feed) {
      feed = new BotFeed(bot, this.events, this.logger, this.counters, this.scheduler, this.fanOut);
      this.feeds.set(bot.reveal(), feed);
    }
    feed.clients.add(client);
    try {
      await feed.ready;
    } catch (err) {
      this.leave(bot, client);
      throw err;
    }
    return feed;
  }

  /** Removes the client; the last one out stops the feed (in the background). */
  leave(bot: AppSecret, client: FeedClient): void {
    const feed = this.feeds.get(bot.reveal());
    if (!feed || !feed.clients.delete(client) || feed.clients.size > 0) return;
    this.feeds.delete(bot.reveal());
    feed.stop().catch((err: unknown) => {
      this.logger.warn({ bot: bot.tag, err }, 'unsubscribing failed');
    });
  }

  /** Per bot with local clients: its tag, its client count and the last stream number passed on (for metrics). */
  snapshot(): { bot: string; clients: number; seq: number | undefined; backlogBytes: number }[] {
    return [...this.feeds.values()].map((feed) => ({
      bot: feed.bot.tag,
      clients: feed.clients.size,
      seq: feed.seq,
      backlogBytes: feed.backlogBytes,
    }));
  }

  /** Body bytes queued for fan-out, over all feeds (`/healthz` fanOutBacklogBytes). */
  get backlogBytes(): number {
    let total = 0;
    for (const feed of this.feeds.values()) total += feed.backlogBytes;
    return total;
  }

  /** Resolves once every event passed on so far has been offered to every client (tests wait on it). */
  drained(): Promise<void> {
    return this.scheduler.idle();
  }

  get botCount(): number {
    return this.feeds.size;
  }

  async close(): Promise<void> {
    const feeds = [...this.feeds.values()];
    this.feeds.clear();
    await Promise.allSettled(feeds.map((f) => f.stop()));
  }
}
