import type { Bus, BusEvent, BusSubscription, StreamPosition } from '@hookway/bus';
import type { Logger } from '@hookway/runtime';
import { secretFingerprint } from '@hookway/protocol';
import type { FeedClient } from './feed-client.ts';

type FeedBus = Pick<Bus, 'subscribe' | 'markDelivered'>;

/** One bot's live stream on this gateway: one bus subscription shared by all of the bot's local clients. */
export class BotFeed {
  readonly clients = new Set<FeedClient>();
  /** Resolves once the bus subscription is live; rejects if it could not be made. */
  readonly ready: Promise<void>;
  private subscription: BusSubscription | undefined;
  private stopped = false;
  private deliveredMark: StreamPosition | undefined;
  private markScheduled = false;

  constructor(
    readonly bot: string,
    private readonly bus: FeedBus,
    private readonly logger: Logger,
  ) {
    this.ready = bus.subscribe(bot, (event) => this.dispatch(event)).then(async (subscription) => {
      // Stopped while subscribing: release the subscription nobody wants any more.
      if (this.stopped) await subscription.close();
      else this.subscription = subscription;
    });
  }

  private dispatch(event: BusEvent): void {
    let written = false;
    for (const client of this.clients) {
      try {
        written = client.deliver(event) || written;
      } catch (err) {
        this.logger.error({ bot: secretFingerprint(this.bot), err }, 'delivering to a client failed');
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
      this.bus.markDelivered(this.bot, mark).catch((err: unknown) => {
        this.logger.warn({ bot: secretFingerprint(this.bot), err }, 'could not record delivered position');
      });
    });
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
  private readonly feeds = new Map<string, BotFeed>();

  constructor(
    private readonly bus: FeedBus,
    private readonly logger: Logger,
  ) {}

  /** Adds the client to its bot's feed; resolves once live events for the bot will reach it. */
  async join(bot: string, client: FeedClient): Promise<BotFeed> {
    let feed = this.feeds.get(bot);
    if (!feed) {
      feed = new BotFeed(bot, this.bus, this.logger);
      this.feeds.set(bot, feed);
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
  leave(bot: string, client: FeedClient): void {
    const feed = this.feeds.get(bot);
    if (!feed || !feed.clients.delete(client) || feed.clients.size > 0) return;
    this.feeds.delete(bot);
    feed.stop().catch((err: unknown) => {
      this.logger.warn({ bot: secretFingerprint(bot), err }, 'unsubscribing failed');
    });
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
