import { continuesWithoutGap, withLiveFront, type BusEvent, type BusSubscription, type EventLog, type StreamPosition } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import type { ClientMode, Logger } from '@hookway/runtime';
import { FanOutScheduler, type CoalesceRule, type FanOutSource } from './fan-out.ts';
import type { FeedClient } from './feed-client.ts';
import { framesOf, RawRun, type EventFrames } from './frames.ts';

type FeedEventLog = Pick<EventLog, 'subscribe' | 'markDelivered' | 'deliveredPosition' | 'head' | 'history'>;

export type FeedCounters = { gapsBackfilled: number; gapsLost: number; fanOutBacklogCloses: number };

/** How a gateway's feeds fan out (fan-out.ts), and where they report what they wrote. */
export interface FanOutOptions {
  /** FANOUT_BACKLOG_MAX_BYTES: body bytes one feed may hold queued for its clients before it cuts the ones behind. */
  readonly maxBacklogBytes?: number;
  /** FANOUT_FRAMES_PER_TURN: frames written per event-loop turn, over all feeds, before other I/O gets in. */
  readonly framesPerTurn?: number;
  /** FANOUT_COALESCE_MS and FANOUT_COALESCE_MIN_CLIENTS: how a wide feed's events share writes (fan-out.ts). */
  readonly coalesce?: CoalesceRule;
  /** Once per event, after its fan-out: how many frames went to each kind of client (metrics, `framesSent`). */
  readonly onFannedOut?: (bot: AppSecret, event: BusEvent, written: Readonly<Record<ClientMode, number>>) => void;
  /** At most one delivered-mark write per feed in this many ms (DEFAULT_DELIVERED_MARK_INTERVAL_MS); 0: once per turn. */
  readonly deliveredMarkIntervalMs?: number;
}

export const DEFAULT_FANOUT_BACKLOG_MAX_BYTES = 1024 * 1024;

/**
 * How often a feed writes its delivered mark to the event log (at most; the last mark of a burst is always written, and
 * a feed that stops writes its pending one at once). Written once per fan-out turn instead, the mark cost a split
 * gateway a Redis round trip — two wake-ups of a process — every few events: ~20 of its ~40 µs of CPU per event
 * (docs/benchmarks.md, sixteenth pass). The mark only decides where a client connecting without a cursor starts; on
 * this gateway that start comes from the feed itself (`BotFeeds.deliveredPosition`), so the interval is how stale the
 * mark can be for a fresh client of the same bot on another gateway.
 */
export const DEFAULT_DELIVERED_MARK_INTERVAL_MS = 100;

/** After a failed history read, how long to wait before trying again (live events queue meanwhile). */
const RESYNC_RETRY_MS = 1000;

/** One event in a feed's backlog: its frames, and what its fan-out wrote so far. */
interface BacklogEntry {
  readonly frames: EventFrames;
  /** Frames written to raw and to gateway clients (reported once the event has been offered to every client). */
  raw: number;
  gateway: number;
  /** The number of the cursor pass whose end has offered this event to every client (see BotFeed.fanOut). */
  readonly lastPass: number;
}

/** A client of the feed and how far the fan-out has handed it the backlog. */
interface FeedMember {
  readonly client: FeedClient;
  readonly raw: boolean;
  /** The feed number (BotFeed.nextNumber) of the last event handed to this client. */
  handed: number;
}

/**
 * Where a client without a cursor starts: after what some client already received (`delivered`: a fresh client still
 * gets what nobody has seen) — but never after the point it joined its feed (`joinedAt`), from which on every event
 * reaches it live: another gateway's client can be handed an event and mark it delivered while this one was still
 * reading the mark, and the event, passed on to this client's pending queue, would count as already replayed.
 */
export function freshClientStart(delivered: StreamPosition | undefined, joinedAt: StreamPosition): StreamPosition | undefined {
  // Joined before the bot had any event (its feed read the head first): every numbering since began after the join.
  if (joinedAt.epoch === '' && joinedAt.seq === 0) return joinedAt;
  // Nothing delivered yet, or a mark and a join point of different numberings, which cannot be compared (a numbering
  // began between them, and its first events may have reached this client's pending queue and been marked elsewhere
  // too): everything retained.
  if (delivered === undefined || delivered.epoch !== joinedAt.epoch) return undefined;
  return joinedAt.seq < delivered.seq ? joinedAt : delivered;
}

/**
 * The delivered mark a fresh client's start is computed from: the event log's (some client on any gateway) or this
 * gateway's feed's own (`local`: its clients were handed it; the log's copy is written at most every
 * DEFAULT_DELIVERED_MARK_INTERVAL_MS, so it may be behind), whichever is further in the same numbering. Marks of two
 * numberings cannot be compared: the log's then, as before the feeds kept their own (a fresh client gets more, never less).
 */
export function newerDeliveredMark(fromLog: StreamPosition | undefined, local: StreamPosition | undefined): StreamPosition | undefined {
  if (local === undefined) return fromLog;
  if (fromLog === undefined) return local.seq > 0 ? local : undefined;
  if (fromLog.epoch !== local.epoch) return fromLog;
  return local.seq > fromLog.seq ? local : fromLog;
}

/**
 * One bot's live stream on this gateway: one bus subscription shared by all of the bot's local clients.
 *
 * Pub/sub may lose messages (a reconnect, a failover), so the feed checks every event's number against the last
 * one it passed on. A jump, an epoch change or a resync request from the bus makes it read the missing events
 * from the history first; if the history no longer has them, its clients are told to reconnect and resume.
 *
 * An event that passed those checks is not written at once: it joins the feed's backlog, which the gateway's
 * fan-out scheduler writes out in bounded turns (fan-out.ts), each event's frames built once. A cursor goes round
 * the clients, handing each everything in the backlog it has not had yet (see fanOut). When the backlog grows past
 * `maxBacklogBytes` (the process cannot write as fast as events come), the clients that have not yet had the oldest
 * queued events are closed as slow consumers (they resume from the history with no gap) and those events leave the
 * backlog, until it is back under the bound.
 */
export class BotFeed implements FanOutSource {
  /** The feed's clients in the cursor's order (a Map iterator also visits clients added meanwhile). */
  private readonly members = new Map<FeedClient, FeedMember>();
  /**
   * Resolves once the bus subscription is live and the feed knows where it started (`started`): every event after
   * that reaches the clients that join from now on — what came before the subscription from the history, read next.
   */
  readonly ready: Promise<void>;
  private subscription: BusSubscription | undefined;
  private stopped = false;
  private position: StreamPosition | undefined;
  /** Where the feed started (set when it is ready): a client that joined before then gets every event after it. */
  private started: StreamPosition | undefined;
  /** The event id at `position`, to notice a numbering that went back (a Redis that lost its last writes). */
  private positionEventId: string | undefined;
  private syncing = false;
  private resyncPending = false;
  private queue: BusEvent[] = [];
  /** The newest position this feed's clients were handed (noteDelivered); the event log's copy may lag it. */
  private deliveredMark: StreamPosition | undefined;
  /** A mark write is due: on the next tick, or when `markTimer` fires (the rest of the interval since the last one). */
  private markScheduled = false;
  private markTimer: NodeJS.Timeout | undefined;
  private lastMarkWriteMs = Number.NEGATIVE_INFINITY;
  /** The last mark write (it never rejects): a stopping feed waits for its own. */
  private markWrite: Promise<void> | undefined;
  /**
   * The backlog, oldest first: events passed on and not yet offered to every client. They are numbered by the feed
   * (1, 2, …, whatever the stream's epochs): `backlog[i]` is number `backlogFirst + i`.
   */
  private backlog: BacklogEntry[] = [];
  private backlogFirst = 1;
  /** Body bytes in the backlog (for the bound and `/healthz`). */
  backlogBytes = 0;
  /** The cursor's current pass over the clients, and its number (passes are numbered from 1). */
  private cursor: Iterator<FeedMember> | undefined;
  private pass = 0;
  /** Whether the current pass has visited a client yet. */
  private passVisited = false;
  /** The last run of backlog events joined for raw clients: the next client due the same events gets the same bytes. */
  private rawRun: RawRun | undefined;

  constructor(
    readonly bot: AppSecret,
    private readonly events: FeedEventLog,
    private readonly logger: Logger,
    private readonly counters: FeedCounters,
    private readonly scheduler: FanOutScheduler,
    private readonly options: FanOutOptions = {},
  ) {
    this.ready = this.start();
  }

  /**
   * Reads the head, then subscribes, then reads from the history whatever was published after that head: every event
   * after `started` reaches the feed's clients, whether it came before the subscription (history only), while it was
   * on its way (both: the history read passes it on, the live copy is a repeat; or the live copy alone, when a burst
   * has already been trimmed from the history) or after it — unless the history shows it gone (a numbering that began
   * again meanwhile), and then the clients are told to resume, as for any gap. Reading the head after
   * subscribing instead lost events: the subscription and the read use different Redis connections, so the head could
   * count an event whose live message was read only after the head's answer, and the feed dropped it as old (seen in
   * the Cluster failover test, a fresh client missing its bot's first event).
   */
  private async start(): Promise<void> {
    const head = await this.events.head(this.bot);
    if (this.stopped) return;
    const subscription = await this.events.subscribe(this.bot, (event) => this.onEvent(event), { onResync: () => this.resync() });
    // Stopped while subscribing: release the subscription nobody wants any more.
    if (this.stopped) return void (await subscription.close());
    this.subscription = subscription;
    this.position = this.started = head;
    // Live events that arrived meanwhile wait in the queue; the backfill passes them on after the history's.
    this.backfill(head, undefined, 'start');
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

  /** `why`: a gap in the numbering (counted in gapsBackfilled) or the feed's start (what came before the subscription). */
  private backfill(from: StreamPosition, trigger?: BusEvent, why: 'gap' | 'start' = 'gap'): void {
    this.syncing = true;
    if (trigger) this.queue.push(trigger);
    const expectedId =
      from.seq >= 1 && this.position?.epoch === from.epoch && this.position.seq === from.seq ? this.positionEventId : undefined;
    // Read from one before our position: that entry must still be the event we passed on, or the numbering went back.
    this.events
      .history(this.bot, { epoch: from.epoch, seq: Math.max(0, from.seq - 1) })
      .then((slice) => {
        if (this.stopped) return;
        // What the history trimmed after `from` while the read was on its way may have arrived live meanwhile.
        const events = withLiveFront(from, slice.head, slice.events, this.queue);
        if (!continuesWithoutGap(from, slice.head, events, expectedId)) {
          this.counters.gapsLost++;
          this.logger.warn({ bot: this.bot.tag, from, head: slice.head }, 'events lost upstream; clients will resume');
          for (const member of this.members.values()) member.client.lostEvents();
          // What this feed handed out may be numbered again (a Redis that lost its last writes): its own mark no
          // longer says what clients had; the log's stands (a fresh client gets more, never less).
          this.deliveredMark = undefined;
          this.position = slice.head;
          this.positionEventId = slice.events.at(-1)?.seq === slice.head.seq ? slice.events.at(-1)?.eventId : undefined;
          return;
        }
        const missing = events.filter((e) => e.seq > from.seq);
        if (missing.length > 0 && why === 'gap') this.counters.gapsBackfilled++;
        for (const event of missing) this.dispatch(event);
      })
      .then(
        () => this.drainQueue(),
        (err: unknown) => {
          this.logger.warn({ bot: this.bot.tag, err }, 'history read failed; retrying');
          setTimeout(() => {
            if (!this.stopped) this.backfill(from, undefined, why);
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
    if (this.members.size === 0) return;
    // The pass under way offers it to the clients it has yet to visit; those it visited get it in the next pass.
    const lastPass = this.cursor && !this.passVisited ? this.pass : this.pass + 1;
    this.backlog.push({ frames: framesOf(event), raw: 0, gateway: 0, lastPass });
    this.backlogBytes += event.body.length;
    this.scheduler.schedule(this);
  }

  /** The feed number the next event passed on will get. */
  private get nextNumber(): number {
    return this.backlogFirst + this.backlog.length;
  }

  /** A client joins: it is handed the events passed on from now on (older ones it reads from the history). */
  add(client: FeedClient): void {
    if (this.members.has(client)) return;
    this.members.set(client, { client, raw: client.clientMode === 'raw', handed: this.nextNumber - 1 });
  }

  /** A client leaves; false when it was not a client of this feed. */
  remove(client: FeedClient): boolean {
    return this.members.delete(client);
  }

  get clientCount(): number {
    return this.members.size;
  }

  /**
   * Writes at most about `budget` frames; true while the backlog is not empty. A cursor goes round the clients in
   * passes; each visit hands the client, in one corked write, every backlog event it has not had yet — so an event
   * that arrives while a pass is under way reaches the clients still ahead of the cursor in this pass (in the same
   * write as the events they were due anyway), and the ones behind it in the next: every client has it within one
   * pass, and the more events arrive while a pass is slow, the more each write carries. Each client is handed the
   * feed's events in order, each once. An event leaves the backlog (and is counted) at the end of the pass that
   * offered it to every client.
   */
  fanOut(budget: number): boolean {
    // Checked here rather than in dispatch: closing many sockets must not happen in the publish path either.
    if (this.backlogBytes > (this.options.maxBacklogBytes ?? DEFAULT_FANOUT_BACKLOG_MAX_BYTES)) this.shed();
    let frames = 0;
    while (this.backlog.length > 0) {
      if (!this.cursor) {
        this.cursor = this.members.values();
        this.pass++;
        this.passVisited = false;
      }
      const cursor = this.cursor;
      for (;;) {
        if (frames >= budget) return true;
        const next = cursor.next();
        if (next.done) break;
        this.passVisited = true;
        frames += this.visit(next.value);
      }
      this.endPass();
    }
    return false;
  }

  /** Hands the member what it has not had; returns how many events that was. */
  private visit(member: FeedMember): number {
    const backlog = this.backlog;
    const from = Math.max(member.handed + 1 - this.backlogFirst, 0);
    const count = backlog.length - from;
    if (count <= 0) return 0;
    // Up to the last event queued now: one passed on meanwhile (a delivery cannot cause one, but be safe) waits.
    const last = backlog.length - 1;
    member.handed = this.backlogFirst + last;
    const { client } = member;
    try {
      if (count === 1) {
        const entry = backlog[from]!;
        if (client.deliver(entry.frames.event, entry.frames)) this.count(entry, member.raw);
        return 1;
      }
      if (client.deliverRawRun) {
        const written = client.deliverRawRun(this.rawRunOf(from, last));
        if (written !== undefined) {
          if (written) for (let i = from; i <= last; i++) this.count(backlog[i]!, member.raw);
          return count;
        }
      }
      client.hold();
      try {
        for (let i = from; i <= last; i++) {
          const entry = backlog[i]!;
          if (client.deliver(entry.frames.event, entry.frames)) this.count(entry, member.raw);
        }
      } finally {
        client.release();
      }
    } catch (err) {
      this.logger.error({ bot: this.bot.tag, err }, 'delivering to a client failed');
    }
    return count;
  }

  /** The raw run of backlog[from..last]: the one joined for the previous client when it was due the same events. */
  private rawRunOf(from: number, last: number): RawRun {
    const firstNumber = this.backlogFirst + from;
    const lastNumber = this.backlogFirst + last;
    const run = this.rawRun;
    if (run && run.firstNumber === firstNumber && run.lastNumber === lastNumber) return run;
    const frames = this.backlog.slice(from, last + 1).map((entry) => entry.frames);
    return (this.rawRun = new RawRun(firstNumber, lastNumber, frames));
  }

  private count(entry: BacklogEntry, raw: boolean): void {
    if (raw) entry.raw++;
    else entry.gateway++;
  }

  /** The pass has visited every client: the events it completed leave the backlog. */
  private endPass(): void {
    this.cursor = undefined;
    let done = 0;
    while (done < this.backlog.length && this.backlog[done]!.lastPass <= this.pass) done++;
    this.drop(done);
  }

  /** The `count` oldest events leave the backlog, counted (metrics) and noted as delivered. */
  private drop(count: number): void {
    if (count === 0) return;
    const gone = this.backlog.splice(0, count);
    this.backlogFirst += count;
    // A run starts with the oldest events it holds: once they leave, no client is due it any more.
    if (this.rawRun && this.rawRun.firstNumber < this.backlogFirst) this.rawRun = undefined;
    let last: BusEvent | undefined;
    for (const entry of gone) {
      const { event } = entry.frames;
      entry.frames.release();
      this.backlogBytes -= event.body.length;
      if (entry.raw + entry.gateway === 0) continue;
      last = event;
      this.options.onFannedOut?.(this.bot, event, { raw: entry.raw, gateway: entry.gateway });
    }
    if (last) this.noteDelivered(last);
  }

  /**
   * Over the bound: the oldest events leave the backlog until it fits, and every client not yet handed all of them
   * is behind by more than the bound, so it is closed as a slow consumer (it resumes from the history).
   */
  private shed(): void {
    const max = this.options.maxBacklogBytes ?? DEFAULT_FANOUT_BACKLOG_MAX_BYTES;
    let count = 0;
    let bytes = this.backlogBytes;
    while (bytes > max && count < this.backlog.length) bytes -= this.backlog[count++]!.frames.event.body.length;
    if (count === 0) return;
    // A client must have had every event that leaves: up to number backlogFirst + count - 1.
    const mustHave = this.backlogFirst + count - 1;
    let cut = 0;
    for (const member of this.members.values()) {
      if (member.handed >= mustHave) continue;
      member.handed = mustHave;
      if (member.client.fellBehind()) cut++;
    }
    this.drop(count);
    this.counters.fanOutBacklogCloses += cut;
    if (cut > 0) {
      this.logger.warn(
        { bot: this.bot.tag, clients: cut, backlogBytes: this.backlogBytes, maxBacklogBytes: max },
        'fan-out fell behind FANOUT_BACKLOG_MAX_BYTES: clients closed as slow consumers (they resume with after)',
      );
    }
  }

  /**
   * Written to the event log at most once per `deliveredMarkIntervalMs`, and at most once per fan-out turn whatever
   * the interval: `nextTick` runs it once the turn is over. Not `setImmediate`: at a few hundred events per second each
   * event is a turn of its own, and an immediate scheduled inside one costs the event loop a whole extra iteration (an
   * epoll wait) per event.
   */
  noteDelivered(position: StreamPosition): void {
    if (this.deliveredMark && this.deliveredMark.epoch === position.epoch && this.deliveredMark.seq >= position.seq) {
      return;
    }
    this.deliveredMark = { epoch: position.epoch, seq: position.seq };
    if (this.markScheduled || this.stopped) return;
    this.markScheduled = true;
    const waitMs = this.lastMarkWriteMs + (this.options.deliveredMarkIntervalMs ?? DEFAULT_DELIVERED_MARK_INTERVAL_MS) - performance.now();
    if (waitMs <= 0) {
      process.nextTick(() => this.writeMark());
      return;
    }
    this.markTimer = setTimeout(() => this.writeMark(), waitMs);
    this.markTimer.unref();
  }

  /** Writes the pending mark, if one is due (a failed write is logged; the next one covers it). */
  private writeMark(): void {
    if (!this.markScheduled) return;
    this.markScheduled = false;
    clearTimeout(this.markTimer);
    this.markTimer = undefined;
    const mark = this.deliveredMark;
    if (!mark) return;
    this.lastMarkWriteMs = performance.now();
    this.markWrite = this.events.markDelivered(this.bot, mark).catch((err: unknown) => {
      this.logger.warn({ bot: this.bot.tag, err }, 'could not record delivered position');
    });
  }

  /** The newest position this feed's clients were handed; undefined before the first. */
  get delivered(): StreamPosition | undefined {
    return this.deliveredMark;
  }

  /** The last stream number passed on to this feed's clients (undefined until the feed knows the stream). */
  get seq(): number | undefined {
    return this.position?.seq;
  }

  /** The last position passed on to this feed's clients; undefined until the feed is ready. */
  get passedOn(): StreamPosition | undefined {
    return this.position;
  }

  /** Where the feed started; undefined until it is ready. */
  get startedAt(): StreamPosition | undefined {
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Its clients have gone: the pending mark is sent now, ahead of what this gateway reads next on the same connection
    // (behind a write for the bot already in flight, RedisEventLog.markDelivered: then a fresh client gets more, not less).
    this.writeMark();
    const markWritten = this.markWrite;
    this.backlogFirst = this.nextNumber;
    this.backlog = [];
    this.backlogBytes = 0;
    this.rawRun = undefined;
    this.cursor = undefined;
    this.scheduler.forget(this);
    await this.ready.catch(() => undefined);
    const subscription = this.subscription;
    this.subscription = undefined;
    await Promise.all([subscription?.close(), markWritten]);
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
    this.scheduler = new FanOutScheduler(fanOut.framesPerTurn, fanOut.coalesce);
  }

  /**
   * The AppSecret object of the bot's feed when it has one, else `bot` itself: a client keeps that one instead of its
   * own, parsed from its upgrade URL — the same secret, but a new object whose string is a slice that keeps the
   * whole URL alive, and whose log tag would be computed again (~120 bytes per connection).
   */
  sameBot(bot: AppSecret): AppSecret {
    return this.feeds.get(bot.reveal())?.bot ?? bot;
  }

  /**
   * Adds the client to its bot's feed; resolves once live events for the bot will reach it, with `joinedAt`: every
   * event after that position reaches the client from the feed (while it catches up, into its pending queue).
   */
  async join(bot: AppSecret, client: FeedClient): Promise<{ feed: BotFeed; joinedAt: StreamPosition }> {
    let feed = this.feeds.get(bot.reveal());
    if (!feed) {
      feed = new BotFeed(bot, this.events, this.logger, this.counters, this.scheduler, this.fanOut);
      this.feeds.set(bot.reveal(), feed);
    }
    feed.add(client);
    // Read now: events the feed passes on while `ready` settles are already the client's.
    const joinedAt = feed.passedOn;
    try {
      await feed.ready;
    } catch (err) {
      this.leave(bot, client);
      throw err;
    }
    return { feed, joinedAt: joinedAt ?? feed.startedAt! };
  }

  /** Removes the client; the last one out stops the feed (in the background). */
  leave(bot: AppSecret, client: FeedClient): void {
    const feed = this.feeds.get(bot.reveal());
    if (!feed || !feed.remove(client) || feed.clientCount > 0) return;
    this.feeds.delete(bot.reveal());
    feed.stop().catch((err: unknown) => {
      this.logger.warn({ bot: bot.tag, err }, 'unsubscribing failed');
    });
  }

  /**
   * After what some client already received (see newerDeliveredMark): the event log's mark, or this gateway's feed's when
   * it is further — a client of the same bot connecting here without a cursor starts exactly after what this gateway's
   * clients were handed, however recently.
   */
  async deliveredPosition(bot: AppSecret): Promise<StreamPosition | undefined> {
    const fromLog = await this.events.deliveredPosition(bot);
    return newerDeliveredMark(fromLog, this.feeds.get(bot.reveal())?.delivered);
  }

  /** Per bot with local clients: its tag, its client count and the last stream number passed on (for metrics). */
  snapshot(): { bot: string; clients: number; seq: number | undefined; backlogBytes: number }[] {
    return [...this.feeds.values()].map((feed) => ({
      bot: feed.bot.tag,
      clients: feed.clientCount,
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
