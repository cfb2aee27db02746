import { continuesWithoutGap, type BusEvent, type BusSubscription, type EventLog, type StreamPosition } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import type { Logger } from '@hookway/runtime';
import type { FeedClient } from './feed-client.ts';

type FeedEventLog = Pick<EventLog, 'subscribe' | 'markDelivered' | 'head' | 'history'>;

export type FeedCounters = { gapsBackfilled: number; gapsLost: number };

/** After a failed history read, how long to wait before trying again (live events queue meanwhile). */
const RESYNC_RETRY_MS = 1000;

/**
 * One bot's live stream on this gateway: one bus subscription shared by all of the bot's local clients.
 *
 * Pub/sub may lose messages (a reconnect, a failover), so the feed checks every event's number against the last
 * one it passed on. A jump, an epoch change or a resync request from the bus makes it read the missing events
 * from the history first; if the history no longer has them, its clients are told to reconnect and resume.
 */
export class BotFeed {
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

  constructor(
    readonly bot: AppSecret,
    private readonly events: FeedEventLog,
    private readonly logger: Logger,
    private readonly counters: FeedCounters,
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

  private dispatch(event: BusEvent): void {
    this.position = { epoch: event.epoch, seq: event.seq };
    this.positionEventId = event.eventId;
    let written = false;
    for (const client of this.clients) {
      try {
        written = client.deliver(event) || written;
      } catch (err) {
        this.logger.error({ bot: this.bot.tag, err }, 'delivering to a client failed');
      }
    }
    if (written) this.noteDelivered(event);
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
  readonly counters: FeedCounters = { gapsBackfilled: 0, gapsLost: 0 };

  constructor(
    private readonly events: FeedEventLog,
    private readonly logger: Logger,
  ) {}

  /** Adds the client to its bot's feed; resolves once live events for the bot will reach it. */
  async join(bot: AppSecret, client: FeedClient): Promise<BotFeed> {
    let feed = this.feeds.get(bot.reveal());
    if (!feed) {
      feed = new BotFeed(bot, this.events, this.logger, this.counters);
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
  snapshot(): { bot: string; clients: number; seq: number | undefined }[] {
    return [...this.feeds.values()].map((feed) => ({ bot: feed.bot.tag, clients: feed.clients.size, seq: feed.seq }));
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
