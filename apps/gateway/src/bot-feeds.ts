import type { Bus, BusEvent, BusSubscription, StreamPosition } from '@hookway/bus';
import type { Logger } from '@hookway/runtime';
import { secretFingerprint } from '@hookway/protocol';
import type { FeedClient } from './feed-client.ts';

type FeedBus = Pick<Bus, 'subscribe' | 'markDelivered'>;

/** One bot's live stream on this gateway: one bus subscription shared by all of the bot's local clients. */
class BotFeed {
  readonly clients = new Set<FeedClient>();
  private subscription: BusSubscription | undefined;
  private deliveredMark: StreamPosition | undefined;
  private markScheduled = false;

  constructor(
    readonly bot: string,
    private readonly bus: FeedBus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe(this.bot, (event) => this.dispatch(event));
  }

  private dispatch(event: BusEvent): void {
    let written = false;
    for (const client of this.clients) written = client.deliver(event) || written;
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
    await this.subscription?.close();
    this.subscription = undefined;
  }
}

/**
 * Subscribes to a bot when its first local client arrives and unsubscribes when its last one leaves, so a
 * gateway holds subscriptions only for bots somebody here listens to.
 */
export class BotFeeds {
  private readonly feeds = new Map<string, Promise<BotFeed>>();

  constructor(
    private readonly bus: FeedBus,
    private readonly logger: Logger,
  ) {}

  /** Adds the client to its bot's feed; resolves once live events for the bot will reach it. */
  async join(bot: string, client: FeedClient): Promise<BotFeed> {
    let pending = this.feeds.get(bot);
    if (!pending) {
      const feed = new BotFeed(bot, this.bus, this.logger);
      pending = feed.start().then(() => feed);
      this.feeds.set(bot, pending);
      pending.catch(() => this.feeds.delete(bot));
    }
    const feed = await pending;
    feed.clients.add(client);
    return feed;
  }

  async leave(bot: string, client: FeedClient): Promise<void> {
    const pending = this.feeds.get(bot);
    if (!pending) return;
    const feed = await pending.catch(() => undefined);
    if (!feed) return;
    feed.clients.delete(client);
    if (feed.clients.size === 0 && this.feeds.get(bot) === pending) {
      this.feeds.delete(bot);
      await feed.stop();
    }
  }

  get botCount(): number {
    return this.feeds.size;
  }

  async close(): Promise<void> {
    const feeds = await Promise.allSettled([...this.feeds.values()]);
    this.feeds.clear();
    await Promise.allSettled(feeds.map((f) => (f.status === 'fulfilled' ? f.value.stop() : undefined)));
  }
}

export type { BotFeed };
