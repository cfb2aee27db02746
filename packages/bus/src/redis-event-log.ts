import { randomBytes, randomFillSync } from 'node:crypto';
import type { AppSecret } from '@hookway/protocol';
import {
  cleanRedisError,
  META_TTL_MS,
  redisKeys,
  ReplicaShortfallError,
  type ChannelSubscriber,
  type RedisClient,
  type RedisConnection,
  type RedisConnectionStats,
} from '@hookway/redis';
import { continuesWithoutGap } from './continuity.ts';
import { TurnBatches } from './turn-batches.ts';
import { HISTORY_PAGE_LUA, LOCATE_LUA, MARK_DELIVERED_LUA, PUBLISH_LUA } from './redis-scripts.ts';
import { POSITIONS_LUA } from './redis-scripts.ts';
import type {
  BusEvent,
  BusListener,
  BusSubscription,
  EventLog,
  HistoryLimits,
  HistorySlice,
  IncomingEvent,
  PublishResult,
  StreamPosition,
  SubscribeOptions,
} from './types.ts';
import { BusClosedError } from './types.ts';

export interface RedisEventLogOptions extends HistoryLimits {
  /** The process's shared command connection; its owner closes it after this log. */
  readonly connection: RedisConnection;
  /** How often an idle subscriber connection is probed; a probe unanswered for this long forces a reconnect. */
  readonly subscriberProbeIntervalMs?: number;
}

export type RedisEventLogStats = RedisConnectionStats & {
  redisMalformedMessages: number;
  redisResyncs: number;
  redisProbeFailures: number;
};

interface ChannelEntry {
  readonly bot: AppSecret;
  readonly subscribers: Set<{ listener: BusListener; options: SubscribeOptions | undefined }>;
}

const HISTORY_PAGE = 500;

/** One probe channel: subscribing (or refused) since `sinceMs`, then subscribed, with its last probe sent and heard. */
interface Probe {
  state: 'subscribing' | 'refused' | 'subscribed';
  sinceMs: number;
  sentMs: number | undefined;
  heardMs: number;
  /** A Cluster's subscriber re-learnt the slots because of this probe, and it has not been heard since. */
  refreshed: boolean;
}

/** On a Cluster, at most one subscriber reconnect per this many probe intervals (it drops every shard's subscriptions). */
const CLUSTER_RECONNECT_INTERVALS = 4;

/** ['noreplicas', online replicas] or ['published', one EventReply per event]. */
type PublishReply = [string, ...unknown[]];
/** ['accepted', epoch, seq] or ['duplicate']. */
type EventReply = [string, string?, number?];
/** One event to publish, as the publish batches carry it. */
interface PublishItem {
  readonly bot: AppSecret;
  readonly event: IncomingEvent;
}
/** The most events one publish script call carries: Redis runs nothing else while a script runs. */
const MAX_PUBLISH_BATCH = 32;
type ScriptClient = RedisClient & {
  hwPublish(...args: (string | Buffer | number)[]): Promise<PublishReply>;
  /** The Buffer variant ioredis derives from defineCommand: bodies come back as the exact bytes. */
  hwHistoryPageBuffer(...args: (string | number)[]): Promise<[Buffer, number, number, ...[number, Buffer, number, Buffer][]]>;
  hwLocate(...args: (string | number)[]): Promise<[string, number] | null>;
  hwMarkDelivered(...args: (string | number)[]): Promise<number>;
  hwPositions(...args: (string | number)[]): Promise<[string | null, string | null, string | null]>;
};

/** A pipeline that knows the publish script (ioredis gives pipelines the connection's defined commands). */
type ScriptPipeline = { hwPublishBuffer(...args: (string | Buffer | number)[]): unknown };
/** The publish script's reply to one event as bytes (a duplicate's stored body must come back exactly). */
type ReplicatedPublishReply = [Buffer, (number | ReplicatedEventReply)?];
type ReplicatedEventReply = [Buffer, Buffer?, number?, Buffer?];

/**
 * The event log over Redis: a Lua script numbers, stores and publishes each event atomically; gateways subscribe
 * to `qq:<secret>` (on a Cluster the sharded `qq:{<secret>}`, in the bot's slot) for bots with local clients and
 * read the bounded stream to catch up or backfill gaps.
 */
export class RedisEventLog implements EventLog {
  private readonly client: ScriptClient;
  /** REDIS_MIN_REPLICAS_ACKED for reads: 0 on a Cluster or without the setting (see the constructor). */
  private readonly readReplicasWanted: number;
  private readonly connection: RedisConnection;
  private subscriber: ChannelSubscriber | undefined;
  private readonly channels = new Map<string, ChannelEntry>();
  /** `hookway check` sockets by their channel (`hookway:check:<nonce>`); never a bot channel, never the history. */
  private readonly checkChannels = new Map<string, Set<(body: Buffer) => void>>();
  private readonly nodeId = randomBytes(6).toString('hex');
  private probeTimer: NodeJS.Timeout | undefined;
  private lastSubscriberMessageMs = Date.now();
  /** Our probe channels (one, or one per Cluster master) and what each is waiting for. */
  private readonly probes = new Map<string, Probe>();
  /** Set when the subscriptions were re-established on a Cluster: the feeds resync once every probe was heard after it. */
  private confirmSinceMs: number | undefined;
  /** When a probe last made the (Cluster) subscriber reconnect. */
  private lastProbeReconnectMs = 0;
  private closed = false;
  /** Random bytes for epoch candidates (see `epochCandidate`), this log's own. */
  private readonly epochPool = Buffer.alloc(6 * 512);
  private epochPoolAt = this.epochPool.length;
  private readonly publishBatches = new TurnBatches<PublishItem, PublishResult>((items) => this.publishBatch(items), MAX_PUBLISH_BATCH);
  private readonly counters = { redisMalformedMessages: 0, redisResyncs: 0, redisProbeFailures: 0, redisAnnounceFailures: 0 };
  /** Per bot (its meta key): a delivered-mark write is in flight; `next` is the one folded up behind it. */
  private readonly marks = new Map<
    string,
    { next?: { position: StreamPosition; done: Promise<void>; settle: { resolve: () => void; reject: (err: unknown) => void } } }
  >();

  constructor(private readonly options: RedisEventLogOptions) {
    this.connection = options.connection;
    this.client = options.connection.client as ScriptClient;
    // The key count comes first in each call: one eventId key per event of the batch.
    this.client.defineCommand('hwPublish', { lua: PUBLISH_LUA });
    this.client.defineCommand('hwHistoryPage', { numberOfKeys: 2, lua: HISTORY_PAGE_LUA });
    this.client.defineCommand('hwLocate', { numberOfKeys: 3, lua: LOCATE_LUA });
    this.client.defineCommand('hwMarkDelivered', { numberOfKeys: 1, lua: MARK_DELIVERED_LUA });
    this.client.defineCommand('hwPositions', { numberOfKeys: 1, lua: POSITIONS_LUA });
    // Sentinel (or one server) with REDIS_MIN_REPLICAS_ACKED: reads, too, are refused by a master without enough
    // online replicas. During a failover the sentinels may still name the old master restarted empty; what it
    // answers (no such bot, no such event) would send clients back to the start of the history or past events
    // they never had. A Cluster needs no such check: a restarted master refuses queries (CLUSTERDOWN) until the
    // cluster has told it who owns its slots now, so its replica-less window after a failover stays readable.
    this.readReplicasWanted = this.connection.sharded ? 0 : this.connection.minReplicasAcked;
  }

  private warn(message: string, detail?: unknown): void {
    this.connection.warn(message, detail);
  }

  private assertOpen(): void {
    if (this.closed) throw new BusClosedError();
  }

  private run<T>(command: Promise<T>): Promise<T> {
    return this.connection.run(command);
  }

  /** The bot's live channel: classic on one server or Sentinel, sharded (hash-tagged into its slot) on a Cluster. */
  private channelOf(bot: AppSecret): string {
    return this.connection.sharded ? redisKeys.shardChannel(bot) : redisKeys.channel(bot);
  }

  /**
   * Stores and publishes in one script; a bot's events published in one turn of the event loop share one call (in
   * the order they were published; the platform's acknowledgement of each waits for that call). With
   * REDIS_MIN_REPLICAS_ACKED each event has its own call, followed by WAIT on the same
   * connection and the promise rejects (→ 503, the platform retries) unless enough replicas hold the event. A
   * retry then finds it as a duplicate; the script writes even then (it refreshes the meta TTL), so the WAIT
   * after a duplicate covers the original write too and a duplicate is acknowledged only once replicated.
   */
  async publish(bot: AppSecret, event: IncomingEvent): Promise<PublishResult> {
    this.assertOpen();
    if (this.connection.minReplicasAcked > 0) return this.publishReplicated(bot, event);
    return this.publishBatches.add(redisKeys.meta(bot), { bot, event });
  }

  /** One call of the publish script for one bot's events gathered in one turn (see TurnBatches). */
  private async publishBatch(items: readonly PublishItem[]): Promise<PublishResult[]> {
    const bot = items[0]!.bot;
    const reply = await this.run(this.client.hwPublish(...this.publishArgs(bot, items, false)));
    if (reply[0] === 'noreplicas') throw new ReplicaShortfallError(Number(reply[1]), this.connection.minReplicasAcked);
    const results: PublishResult[] = [];
    for (let i = 1; i < reply.length; i++) {
      const [status, epoch, seq] = reply[i] as EventReply;
      results.push(
        status === 'accepted' ? { status: 'accepted', position: { epoch: String(epoch), seq: Number(seq) } } : { status: 'duplicate' },
      );
    }
    return results;
  }

  /** The publish script's keys and arguments (redis-scripts.ts, PUBLISH_LUA), with the key count first. */
  private publishArgs(bot: AppSecret, items: readonly PublishItem[], waiting: boolean): (string | Buffer | number)[] {
    const meta = redisKeys.meta(bot);
    const args: (string | Buffer | number)[] = [items.length + 2, meta, redisKeys.stream(bot)];
    for (const { event } of items) args.push(event.eventId ? redisKeys.eventId(bot, event.eventId) : meta);
    args.push(
      this.options.historyMaxEvents,
      this.options.historyMaxAgeMs,
      this.options.historyMaxBytes,
      this.options.dedupWindowMs,
      META_TTL_MS,
      this.channelOf(bot),
      this.epochCandidate(),
      this.connection.sharded ? 'SPUBLISH' : 'PUBLISH',
      waiting ? '1' : '0',
      this.connection.minReplicasAcked,
    );
    for (const { event } of items) args.push(event.eventId ?? '', event.body);
    return args;
  }

  /**
   * REDIS_MIN_REPLICAS_ACKED > 0: the script stores without announcing, WAIT confirms the replicas, and only then is
   * the event announced. Announced first, a client could pass on an event that a failover takes back; the promoted
   * replica would then give the next event the same number and that client's gateway would drop it as already seen.
   * A duplicate is announced again (its first attempt may have stored it and then fallen short of replicas, never
   * announcing it); gateways drop a number they already passed on.
   */
  private async publishReplicated(bot: AppSecret, event: IncomingEvent): Promise<PublishResult> {
    const args = this.publishArgs(bot, [{ bot, event }], true);
    const replies = await this.connection.runReplicated((p) => (p as unknown as ScriptPipeline).hwPublishBuffer(...args));
    const [outcome, detail] = replies[0] as ReplicatedPublishReply;
    if (outcome.toString() === 'noreplicas') throw new ReplicaShortfallError(Number(detail), this.connection.minReplicasAcked);
    const [statusBytes, epochBytes, seq, storedBody] = detail as ReplicatedEventReply;
    const status = statusBytes.toString();
    if (status === 'duplicate') {
      if (epochBytes !== undefined && seq !== undefined && storedBody !== undefined) {
        await this.announce(bot, epochBytes.toString(), Number(seq), event.eventId, storedBody);
      }
      return { status: 'duplicate' };
    }
    const position = { epoch: String(epochBytes), seq: Number(seq) };
    await this.announce(bot, position.epoch, position.seq, event.eventId, event.body);
    return { status: 'accepted', position };
  }

  /**
   * Publishes a stored event on the bot's channel, in the script's message format. The event is stored and replicated
   * by now: if announcing fails it is still acknowledged, and gateways find it in the history (gap detection on the
   * bot's next event, or the resync after their subscriber reconnects).
   */
  private async announce(bot: AppSecret, epoch: string, seq: number, eventId: string | undefined, body: Buffer): Promise<void> {
    try {
      await this.connection.publish(this.channelOf(bot), encodeChannelMessage({ epoch, seq, eventId, body }));
    } catch (err) {
      this.counters.redisAnnounceFailures++;
      this.warn('a replicated event could not be announced; gateways will read it from the history', {
        bot: bot.tag,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * The epoch the script uses if the bot's log is new (6 random bytes, base64url, as `newEpoch`): drawn from a
   * pool refilled 512 at a time, because every publish sends one and almost none is used.
   */
  private epochCandidate(): string {
    if (this.epochPoolAt >= this.epochPool.length) {
      randomFillSync(this.epochPool);
      this.epochPoolAt = 0;
    }
    const epoch = this.epochPool.toString('base64url', this.epochPoolAt, this.epochPoolAt + 6);
    this.epochPoolAt += 6;
    return epoch;
  }

  async head(bot: AppSecret): Promise<StreamPosition> {
    this.assertOpen();
    const [epoch, seq] = await this.positions(bot);
    return epoch ? { epoch, seq: Number(seq ?? 0) } : { epoch: '', seq: 0 };
  }

  async history(bot: AppSecret, cursor?: StreamPosition): Promise<HistorySlice> {
    this.assertOpen();
    let page = await this.historyPage(bot, cursor?.seq ?? 0);
    const head = { epoch: page.epoch, seq: page.headSeq };
    const usable = cursor !== undefined && cursor.epoch === page.epoch && cursor.seq <= page.headSeq;
    // A cursor from another numbering cannot be honoured: read everything retained instead.
    if (cursor !== undefined && !usable && cursor.seq > 0) page = await this.historyPage(bot, 0);
    const events: BusEvent[] = [...page.events];
    while (page.nextAfter >= 0) {
      page = await this.historyPage(bot, page.nextAfter);
      events.push(...page.events);
    }
    const current = events.filter((e) => e.epoch === head.epoch);
    // Later pages may reach past the head the first page saw: the slice's head is its last event.
    const latest = { epoch: head.epoch, seq: Math.max(head.seq, current.at(-1)?.seq ?? 0) };
    return { head: latest, events: current, complete: cursor === undefined || continuesWithoutGap(cursor, latest, current) };
  }

  private async historyPage(bot: AppSecret, afterSeq: number) {
    const [epochBytes, headSeq, nextAfter, ...entries] = await this.run(
      this.client.hwHistoryPageBuffer(
        redisKeys.meta(bot),
        redisKeys.stream(bot),
        afterSeq,
        HISTORY_PAGE,
        this.options.historyMaxEvents,
        this.options.historyMaxAgeMs,
        this.options.historyMaxBytes,
        this.readReplicasWanted,
      ),
    );
    const epoch = epochBytes.toString();
    const events = entries.map(([seq, body, acceptedAtMs, id]): BusEvent => ({
      epoch,
      seq: Number(seq),
      body,
      acceptedAtMs: Number(acceptedAtMs),
      eventId: id.length > 0 ? id.toString() : undefined,
    }));
    /** Where the next page starts, or -1 when this page reached the end. */
    return { epoch, headSeq: Number(headSeq), events, nextAfter: Number(nextAfter) };
  }

  async locate(bot: AppSecret, eventId: string): Promise<StreamPosition | undefined> {
    this.assertOpen();
    const found = await this.run(
      this.client.hwLocate(
        redisKeys.meta(bot),
        redisKeys.eventId(bot, eventId),
        redisKeys.stream(bot),
        this.options.historyMaxAgeMs,
        this.readReplicasWanted,
      ),
    );
    return found ? { epoch: String(found[0]), seq: Number(found[1]) } : undefined;
  }

  /**
   * At most one mark write per bot in flight: marks asked for meanwhile are folded into one write of the highest
   * (or, from another epoch, the latest) position when it returns. The script only ever raises the mark, so a
   * caller whose position was folded into a later one is answered when that later write lands.
   */
  markDelivered(bot: AppSecret, position: StreamPosition): Promise<void> {
    // A closed log rejects (as every other method does), never throws at the caller.
    if (this.closed) return Promise.reject(new BusClosedError());
    const key = redisKeys.meta(bot);
    const state = this.marks.get(key);
    if (!state) {
      this.marks.set(key, {});
      return this.writeMark(key, position);
    }
    if (!state.next) {
      let settle!: { resolve: () => void; reject: (err: unknown) => void };
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      state.next = { position, done, settle };
    } else if (state.next.position.epoch !== position.epoch || state.next.position.seq < position.seq) {
      state.next.position = position;
    }
    return state.next.done;
  }

  private async writeMark(key: string, position: StreamPosition): Promise<void> {
    try {
      await this.run(this.client.hwMarkDelivered(key, position.epoch, position.seq));
    } finally {
      const next = this.marks.get(key)?.next;
      if (next) {
        this.marks.set(key, {});
        this.writeMark(key, next.position).then(next.settle.resolve, next.settle.reject);
      } else {
        this.marks.delete(key);
      }
    }
  }

  async deliveredPosition(bot: AppSecret): Promise<StreamPosition | undefined> {
    this.assertOpen();
    const [epoch, , dseq] = await this.positions(bot);
    const seq = Number(dseq ?? 0);
    return epoch && seq > 0 ? { epoch, seq } : undefined;
  }

  /** epoch, seq and dseq of the bot's meta (through the replica check when reads need one). */
  private positions(bot: AppSecret): Promise<(string | null)[]> {
    return this.run(
      this.readReplicasWanted > 0
        ? this.client.hwPositions(redisKeys.meta(bot), this.readReplicasWanted)
        : this.client.hmget(redisKeys.meta(bot), 'epoch', 'seq', 'dseq'),
    );
  }

  async subscribe(bot: AppSecret, listener: BusListener, options?: SubscribeOptions): Promise<BusSubscription> {
    this.assertOpen();
    const subscriber = this.ensureSubscriber();
    const channel = this.channelOf(bot);
    let entry = this.channels.get(channel);
    const fresh = !entry;
    if (!entry) {
      entry = { bot, subscribers: new Set() };
      this.channels.set(channel, entry);
    }
    const handle = { listener, options };
    entry.subscribers.add(handle);
    if (fresh) {
      try {
        await subscriber.subscribe(channel);
      } catch (err) {
        entry.subscribers.delete(handle);
        if (entry.subscribers.size === 0 && this.channels.get(channel) === entry) {
          this.channels.delete(channel);
          // ioredis may still send the queued SUBSCRIBE later (and repeat it after every reconnect): take it back.
          void subscriber.unsubscribe(channel).catch(() => undefined);
        }
        throw cleanRedisError(err);
      }
    }
    return {
      close: async () => {
        const current = this.channels.get(channel);
        if (!current || !current.subscribers.delete(handle) || current.subscribers.size > 0) return;
        this.channels.delete(channel);
        if (!this.closed) await subscriber.unsubscribe(channel).catch(() => undefined);
      },
    };
  }

  async publishCheck(nonce: string, body: Buffer): Promise<number> {
    this.assertOpen();
    // (S)PUBLISH answers how many subscriptions received it: 0 tells the check that no gateway holds its socket.
    return this.connection.publish(redisKeys.checkChannel(nonce), body);
  }

  async subscribeCheck(nonce: string, listener: (body: Buffer) => void): Promise<BusSubscription> {
    this.assertOpen();
    const subscriber = this.ensureSubscriber();
    const channel = redisKeys.checkChannel(nonce);
    let listeners = this.checkChannels.get(channel);
    const fresh = !listeners;
    if (!listeners) this.checkChannels.set(channel, (listeners = new Set()));
    listeners.add(listener);
    const release = async () => {
      if (!listeners.delete(listener) || listeners.size > 0 || this.checkChannels.get(channel) !== listeners) return;
      this.checkChannels.delete(channel);
      if (!this.closed) await subscriber.unsubscribe(channel).catch(() => undefined);
    };
    if (fresh) {
      try {
        await subscriber.subscribe(channel);
      } catch (err) {
        await release();
        throw cleanRedisError(err);
      }
    }
    return { close: release };
  }

  /**
   * One subscriber per process, created on the first subscription (ingress-only processes never need it): one
   * connection, or on a Cluster one per master (sharded pub/sub).
   */
  private ensureSubscriber(): ChannelSubscriber {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.connection.newSubscriber();
    this.subscriber = subscriber;
    subscriber.onError((err: Error) => this.warn('redis subscriber error', { message: err.message }));
    subscriber.onResubscribed(() => {
      this.lastSubscriberMessageMs = Date.now();
      this.resyncAll('subscriber reconnected');
      // A Cluster's sharded subscribers report before their SSUBSCRIBE replies: events published between that
      // resync and the subscription taking effect would be noticed only on the bot's next event. Once every
      // shard's probe has come back through the new subscriptions, the feeds resync again.
      if (this.connection.sharded) this.confirmSubscriptions();
    });
    subscriber.onMessage((channel, message) => this.onMessage(channel, message));
    this.startProbing();
    return subscriber;
  }

  private onMessage(channel: string, message: Buffer): void {
    const now = Date.now();
    this.lastSubscriberMessageMs = now;
    const probe = this.probes.get(channel);
    if (probe) return this.probeHeard(probe, now);
    const checks = this.checkChannels.get(channel);
    if (checks) {
      for (const listener of checks) {
        try {
          listener(message);
        } catch {
          // One failing check socket must not affect the others.
        }
      }
      return;
    }
    const entry = this.channels.get(channel);
    if (!entry) return;
    const event = decodeChannelMessage(message);
    if (!event) {
      this.counters.redisMalformedMessages++;
      this.warn('dropped a malformed message on a bot channel', { bytes: message.length });
      return;
    }
    for (const { listener } of entry.subscribers) {
      try {
        listener(event);
      } catch {
        // One failing subscriber must not affect the others.
      }
    }
  }

  /**
   * The subscriber is probed: we publish to our own probe channel(s) and expect to hear each back within one
   * interval. On one server or Sentinel that is one channel, probed when the connection has heard nothing for an
   * interval. On a Cluster each master's shard has its own channel (RedisConnection.probeChannels), probed every
   * interval whatever else arrives: ioredis's sharded subscribers can be left without a subscription on one shard
   * (an SSUBSCRIBE refused while a restarted node still claimed the slots, a stale slot map) while the others
   * stay busy. A probe unanswered (or a probe channel that cannot be subscribed) for an interval drops and
   * re-establishes the subscriber, and every feed resyncs.
   */
  private startProbing(): void {
    const intervalMs = this.options.subscriberProbeIntervalMs ?? 15_000;
    const tick = () => this.probeTick(intervalMs);
    this.probeTimer = setInterval(tick, Math.max(250, Math.floor(intervalMs / 2)));
    this.probeTimer.unref();
    tick();
  }

  private probeTick(intervalMs: number): void {
    const subscriber = this.subscriber;
    if (!subscriber || this.closed || !subscriber.isReady()) return;
    const now = Date.now();
    const wanted = new Set(this.connection.probeChannels(this.nodeId));
    for (const channel of this.probes.keys()) {
      if (wanted.has(channel)) continue;
      this.probes.delete(channel);
      void subscriber.unsubscribe(channel).catch(() => undefined);
    }
    for (const channel of wanted) {
      const probe = this.probes.get(channel);
      if (!probe) {
        this.subscribeProbe(subscriber, channel, now);
        continue;
      }
      const waitingMs = probe.state !== 'subscribed' ? now - probe.sinceMs : probe.sentMs === undefined ? 0 : now - probe.sentMs;
      if (waitingMs >= intervalMs) {
        const reason = probe.state !== 'subscribed' ? 'probe channel not subscribed' : 'subscriber probe unanswered';
        if (!this.connection.sharded) return this.probeFailed(subscriber, reason);
        // A Cluster: first let ioredis re-learn the slot map (its sharded subscribers follow it); if the same probe
        // fails again, reconnect — at most once every few intervals, as that drops every shard's subscriptions and a
        // failover in progress needs some seconds anyway.
        this.counters.redisProbeFailures++;
        if (probe.refreshed && now - this.lastProbeReconnectMs >= CLUSTER_RECONNECT_INTERVALS * intervalMs) {
          this.lastProbeReconnectMs = now;
          return this.probeFailed(subscriber, reason);
        }
        this.warn(`${reason}; refreshing the cluster slots of the subscriber`);
        probe.refreshed = true;
        probe.sinceMs = now;
        probe.sentMs = undefined;
        subscriber.refresh();
        continue;
      }
      if (probe.state === 'refused') this.subscribeProbe(subscriber, channel, probe.sinceMs);
      const heardMs = this.connection.sharded ? probe.heardMs : Math.max(probe.heardMs, this.lastSubscriberMessageMs);
      if (probe.state === 'subscribed' && probe.sentMs === undefined && now - heardMs >= intervalMs) this.sendProbe(channel, probe, now);
    }
  }

  /** Subscribes to a probe channel; `sinceMs`: since when it has been trying. */
  private subscribeProbe(subscriber: ChannelSubscriber, channel: string, sinceMs: number): void {
    const probe: Probe = { state: 'subscribing', sinceMs, sentMs: undefined, heardMs: Date.now(), refreshed: false };
    this.probes.set(channel, probe);
    subscriber.subscribe(channel).then(
      () => {
        probe.state = 'subscribed';
        if (this.confirmSinceMs !== undefined && this.probes.get(channel) === probe) this.sendProbe(channel, probe, Date.now());
      },
      (err: unknown) => {
        // Refused (a node that no longer or not yet owns the slot): the next tick tries again, and an interval
        // without success counts as a failed probe.
        if (this.probes.get(channel) !== probe) return;
        this.warn('could not subscribe to a probe channel', { message: cleanRedisError(err).message });
        probe.state = 'refused';
        subscriber.refresh();
      },
    );
  }

  private sendProbe(channel: string, probe: Probe, now: number): void {
    probe.sentMs = now;
    this.connection.publish(channel, 'probe').catch(() => {
      probe.sentMs = undefined;
    });
  }

  private probeHeard(probe: Probe, now: number): void {
    probe.sentMs = undefined;
    probe.heardMs = now;
    probe.refreshed = false;
    const since = this.confirmSinceMs;
    if (since === undefined) return;
    if ([...this.probes.values()].every((p) => p.heardMs >= since)) {
      this.confirmSinceMs = undefined;
      this.resyncAll('subscriptions confirmed by every shard');
    }
  }

  /** Probes every shard now; once all have come back (after this moment) the feeds resync. */
  private confirmSubscriptions(): void {
    const now = Date.now();
    this.confirmSinceMs = now;
    for (const [channel, probe] of this.probes) {
      if (probe.state === 'subscribed' && probe.sentMs === undefined) this.sendProbe(channel, probe, now);
    }
  }

  private probeFailed(subscriber: ChannelSubscriber, reason: string): void {
    if (!this.connection.sharded) this.counters.redisProbeFailures++;
    for (const [channel, probe] of this.probes) {
      probe.sentMs = undefined;
      // Subscribed again from scratch on the next tick (ioredis also re-subscribes what it knows after the reconnect).
      if (probe.state !== 'subscribed') this.probes.delete(channel);
    }
    this.warn(`${reason}; reconnecting the subscriber`);
    subscriber.reconnect();
  }

  private resyncAll(reason: string): void {
    this.counters.redisResyncs++;
    this.warn(`resyncing ${this.channels.size} bot feeds: ${reason}`);
    for (const entry of this.channels.values()) {
      for (const { options } of entry.subscribers) options?.onResync?.();
    }
  }

  isReady(): boolean {
    return this.notReadyReason() === undefined;
  }

  /** Why the log is not ready, for `/readyz`: the shared connection's reason, or the subscriber's. */
  notReadyReason(): string | undefined {
    if (this.closed) return 'event log closed';
    const reason = this.connection.notReadyReason();
    if (reason !== undefined) return reason;
    return this.subscriber?.notReadyReason();
  }

  stats(): RedisEventLogStats {
    return { ...this.connection.stats(), ...this.counters };
  }

  /** Drops the subscriber connection; the shared command connection stays with its owner. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    this.channels.clear();
    this.checkChannels.clear();
    if (this.subscriber) await this.subscriber.close();
  }
}

/**
 * A message as `decodeChannelMessage` reads it, built in TypeScript for events announced after their WAIT (the publish
 * script builds the same with cjson when it publishes itself).
 */
export function encodeChannelMessage(event: Pick<BusEvent, 'epoch' | 'seq' | 'eventId' | 'body'>): Buffer {
  const header = JSON.stringify({ v: 1, epoch: event.epoch, seq: event.seq, ...(event.eventId ? { id: event.eventId } : {}) });
  return Buffer.concat([Buffer.from(`${header}\n`), event.body]);
}

/**
 * A message on `qq:<secret>`: one line of JSON header `{"v":1,"epoch":…,"seq":…,"id":…}`, a newline, then the
 * raw body exactly as the platform sent it. Anything else is foreign and dropped.
 */
export function decodeChannelMessage(message: Buffer): BusEvent | undefined {
  const newline = message.indexOf(10);
  if (newline <= 0 || newline > 4096) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(message.subarray(0, newline).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null) return undefined;
  const { v, epoch, seq, id } = header as Record<string, unknown>;
  if (v !== 1 || typeof epoch !== 'string' || epoch === '' || typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) {
    return undefined;
  }
  if (id !== undefined && typeof id !== 'string') return undefined;
  return { epoch, seq, eventId: id, body: message.subarray(newline + 1), acceptedAtMs: Date.now() };
}
