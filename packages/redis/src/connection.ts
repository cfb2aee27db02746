import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { diagnoseTarget } from './diagnose.ts';
import { cleanRedisError, ReplicaShortfallError } from './errors.ts';
import { keepConnecting, reconnectClient } from './keep-connecting.ts';
import { redisKeys } from './keys.ts';
import { CLUSTER_SLOTS, keySlot } from './slots.ts';
import { ClusterChannelSubscriber, ServerChannelSubscriber, type ChannelSubscriber } from './subscriber.ts';
import { describeTarget, type RedisTarget } from './target.ts';

export interface RedisConnectionOptions {
  /** Shorthand for `target: { mode: 'single', url }` (tests, one server). */
  readonly url?: string;
  readonly target?: RedisTarget;
  /** A command that takes longer fails (the ingress then answers 503 instead of hanging). */
  readonly commandTimeoutMs?: number;
  /** REDIS_MIN_REPLICAS_ACKED: writes that must survive a failover wait for this many replicas (0: no waiting). */
  readonly minReplicasAcked?: number;
  /** REDIS_WAIT_TIMEOUT_MS: how long such a write waits for its replicas before it counts as failed. */
  readonly waitTimeoutMs?: number;
  /** How often the replica count behind `minReplicasAcked` is checked for `/readyz`. */
  readonly replicaCheckIntervalMs?: number;
  /** Called for problems worth a log line (connection errors, a stalled server). */
  readonly onWarning?: (message: string, detail?: unknown) => void;
}

/** One server or a master behind Sentinel (`Redis`), or a Redis Cluster: the stores use the commands both have. */
export type RedisClient = Redis | Cluster;

/** A stalled Redis (partition, CLIENT PAUSE) keeps its TCP up: this many timeouts in a row count as down. */
const TIMEOUTS_BEFORE_RECONNECT = 3;

/** Capped, jittered reconnect backoff: 100 ms doubling to 2 s, never a tight loop. */
const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000) + Math.floor(Math.random() * 250);

export type RedisConnectionStats = { redisCommandTimeouts: number; redisReplicaShortfalls: number };

/**
 * The one command connection a process shares between its stores (event log, sessions, bot registry, …), in any
 * of the three forms (one server, Sentinel, Cluster). Every command goes through `run`, so errors never carry
 * their arguments, no command outlives its timeout (a failover answers 503 quickly, never a late 200) and
 * repeated timeouts force a reconnect. Stores that publish or subscribe use `publish`/`newSubscriber`, which
 * pick sharded pub/sub on a Cluster.
 */
export class RedisConnection {
  readonly client: RedisClient;
  readonly target: RedisTarget;
  /** Cluster: pub/sub is sharded (SPUBLISH/SSUBSCRIBE), so a channel lives on the shard that owns its slot. */
  readonly sharded: boolean;
  readonly minReplicasAcked: number;
  readonly waitTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private consecutiveTimeouts = 0;
  private lastSentinelReconnectMs = 0;
  private closed = false;
  private lastError: string | undefined;
  private diagnosis: string | undefined;
  private replicaProblem: string | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly counters: RedisConnectionStats = { redisCommandTimeouts: 0, redisReplicaShortfalls: 0 };

  constructor(private readonly options: RedisConnectionOptions) {
    const target = options.target ?? (options.url !== undefined ? { mode: 'single' as const, url: options.url } : undefined);
    if (!target) throw new Error('RedisConnection needs a url or a target');
    this.target = target;
    this.sharded = target.mode === 'cluster';
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.minReplicasAcked = options.minReplicasAcked ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 1000;
    // Fail at once while disconnected: the ingress answers 503 and the platform retries. No auto-pipelining: a bot's
    // webhooks of one turn already share one publish script call (TurnBatches), and ioredis builds a Pipeline object
    // for every auto-pipelined turn, ~30–40 µs of CPU per call against a write of its own (docs/benchmarks.md,
    // seventeenth pass).
    this.client = this.open({ enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false });
    if (!(this.client instanceof Cluster)) {
      keepConnecting(
        this.client,
        () => this.closed,
        () => this.warn('the redis connection had stopped retrying; connecting again'),
      );
    }
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
      this.warn('redis connection error', { message: err.message });
    });
    this.client.on('ready', () => {
      this.consecutiveTimeouts = 0;
      this.lastError = undefined;
      this.diagnosis = undefined;
      if (this.minReplicasAcked > 0) this.checkReplicas().catch(() => undefined);
    });
    this.every(2000, () => {
      if (this.client.status !== 'ready') this.diagnose().catch(() => undefined);
    });
    if (this.minReplicasAcked > 0) this.every(options.replicaCheckIntervalMs ?? 2000, () => this.checkReplicas().catch(() => undefined));
  }

  private every(intervalMs: number, tick: () => void): void {
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Options for every connection to a server of this target. */
  private serverOptions(): RedisOptions {
    return { commandTimeout: this.commandTimeoutMs, connectTimeout: 5000, keepAlive: 15_000 };
  }

  /** A new client for this target; `extra` adds e.g. the offline-queue policy or `autoResubscribe`. */
  private open(extra: RedisOptions & { shardedSubscribers?: boolean }): RedisClient {
    const target = this.target;
    const { shardedSubscribers, ...redisExtra } = extra;
    switch (target.mode) {
      case 'single':
        return new Redis(target.url, { ...this.serverOptions(), retryStrategy, ...redisExtra });
      case 'sentinel':
        return new Redis({
          ...this.serverOptions(),
          retryStrategy,
          ...redisExtra,
          sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
          name: target.masterName,
          password: target.password || undefined,
          sentinelPassword: target.sentinelPassword || undefined,
          sentinelRetryStrategy: retryStrategy,
          // Follow +switch-master from the sentinels instead of waiting for the old master's socket to die.
          failoverDetector: true,
        });
      case 'cluster': {
        const { enableOfflineQueue, maxRetriesPerRequest, enableAutoPipelining, ...nodeExtra } = redisExtra;
        const options: ClusterOptions = {
          clusterRetryStrategy: retryStrategy,
          enableOfflineQueue: enableOfflineQueue ?? true,
          enableAutoPipelining: enableAutoPipelining ?? false,
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          slotsRefreshTimeout: Math.min(this.commandTimeoutMs, 2000),
          shardedSubscribers: shardedSubscribers ?? false,
          redisOptions: {
            ...this.serverOptions(),
            ...nodeExtra,
            maxRetriesPerRequest: maxRetriesPerRequest ?? null,
            password: target.password || undefined,
          },
        };
        return new Cluster(
          target.nodes.map((n) => ({ host: n.host, port: n.port })),
          options,
        );
      }
    }
  }

  /**
   * A new pub/sub connection to the same target (sharded on a Cluster); its owner closes it. Use this and
   * `publish`, never raw SUBSCRIBE/PUBLISH on `client`: on a Cluster only the sharded forms stay on one shard.
   */
  newSubscriber(): ChannelSubscriber {
    if (this.target.mode === 'cluster') {
      return new ClusterChannelSubscriber(() => this.open({ shardedSubscribers: true }) as Cluster);
    }
    return new ServerChannelSubscriber(this.open({ autoResubscribe: true }) as Redis, () =>
      this.warn('the redis subscriber had stopped retrying; connecting again'),
    );
  }

  /**
   * The channels a subscriber of this process must hear its own probes on: one, or on a Cluster one per master
   * as this connection sees the slots now (sharded pub/sub keeps each in its shard, so each proves that shard's
   * subscription). The tags are the smallest numbers whose slots those masters own.
   */
  probeChannels(nodeId: string): string[] {
    if (!(this.client instanceof Cluster)) return [redisKeys.probeChannel(nodeId)];
    const slots = this.client.slots;
    const channels = new Map<string, string>();
    const wanted = new Set(slots.map((owners) => owners?.[0]).filter((m): m is string => m !== undefined));
    for (let tag = 0; channels.size < wanted.size && tag < CLUSTER_SLOTS * 16; tag++) {
      const channel = redisKeys.shardProbeChannel(nodeId, tag);
      const master = slots[keySlot(channel)]?.[0];
      if (master !== undefined && !channels.has(master)) channels.set(master, channel);
    }
    return [...channels.values()];
  }

  /** PUBLISH, or SPUBLISH on a Cluster (the message then reaches the subscribers on the channel's shard). */
  async publish(channel: string, message: string | Buffer): Promise<number> {
    return Number(await this.run<unknown>(this.sharded ? this.client.spublish(channel, message) : this.client.publish(channel, message)));
  }

  warn(message: string, detail?: unknown): void {
    this.options.onWarning?.(message, detail);
  }

  /**
   * Resolves true once the command connection is up, or false after `timeoutMs`. Processes start serving either
   * way: until Redis answers, `/readyz` says why and webhooks get 503.
   */
  async whenReady(timeoutMs = 5000): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.client.once('ready', onReady);
    });
    if (!ready) await this.diagnose();
    return ready;
  }

  /**
   * Every command goes through here: errors lose their command, no command waits longer than the command
   * timeout (a Cluster client would otherwise keep retrying a failed-over slot), and repeated timeouts force a
   * reconnect. `extraMs` widens the deadline for a command that blocks on purpose (WAIT).
   */
  async run<T>(command: Promise<T>, extraMs = 0): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Command timed out')), this.commandTimeoutMs + extraMs + 50);
      timer.unref();
    });
    try {
      const result = await Promise.race([command, deadline]);
      this.consecutiveTimeouts = 0;
      return result;
    } catch (err) {
      if (this.target.mode === 'sentinel' && err instanceof Error && /READONLY/.test(err.message)) this.followSentinels();
      if (err instanceof Error && /timed out/i.test(err.message)) {
        // The losing command still settles later; nobody is listening.
        command.catch(() => undefined);
        this.counters.redisCommandTimeouts++;
        if (++this.consecutiveTimeouts === TIMEOUTS_BEFORE_RECONNECT) {
          this.warn('redis stopped answering; reconnecting');
          this.reconnect();
        }
      }
      throw cleanRedisError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A connection that reached the old master (restarted, still named by a sentinel) after +switch-master was
   * announced hears no switch again when the sentinels make that node a replica: its writes (and, with
   * REDIS_MIN_REPLICAS_ACKED, the scripts' reads) answer READONLY for good. Ask the sentinels again — at most once
   * a second, however many commands fail meanwhile.
   */
  private followSentinels(): void {
    const now = Date.now();
    if (now - this.lastSentinelReconnectMs < 1000) return;
    this.lastSentinelReconnectMs = now;
    this.warn('redis answered READONLY (a replica now); asking the sentinels for the master again');
    this.reconnect();
  }

  /**
   * Drops the connection(s) to start afresh. A Cluster client is never `disconnect(true)`ed: ioredis 6 lets a slot
   * refresh in flight refill its connection pool after that emptied it, so the pool never drains and the client
   * stays `disconnecting` for good ("Cluster isn't ready" to every command — a gateway whose history reads then
   * fail forever, its clients never catching up: the failover test's stuck Cluster client). Instead each node
   * connection is dropped (commands in flight fail and are retried on new ones) and the slots are re-read.
   */
  reconnect(): void {
    const client = this.client;
    if (!(client instanceof Cluster)) return reconnectClient(client);
    for (const node of client.nodes('all')) node.disconnect();
    if (client.status === 'ready') client.refreshSlotsCache();
  }

  /**
   * Runs a pipeline of writes for one key's slot followed by `WAIT minReplicasAcked waitTimeoutMs` on the same
   * connection (a Cluster client sends the whole pipeline to the node owning the slot, so WAIT asks the right
   * master). Resolves with the results of `writes`; rejects with ReplicaShortfallError when too few replicas
   * confirmed. Without REDIS_MIN_REPLICAS_ACKED it is a plain pipeline.
   */
  async runReplicated(build: (pipeline: ReturnType<RedisClient['pipeline']>) => void): Promise<unknown[]> {
    try {
      return await this.runReplicatedOnce(build);
    } catch (err) {
      // A Cluster follows MOVED for single commands, not for a pipeline whose WAIT (keyless) succeeded on the old
      // node: after a failover, learn the new slot owners and try once more (the write had not run: MOVED).
      if (!(this.client instanceof Cluster) || !(err instanceof Error) || !/^(MOVED|ASK) /.test(err.message)) throw err;
      const cluster = this.client;
      await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
      return this.runReplicatedOnce(build);
    }
  }

  private async runReplicatedOnce(build: (pipeline: ReturnType<RedisClient['pipeline']>) => void): Promise<unknown[]> {
    const pipeline = this.client.pipeline();
    build(pipeline);
    const writes = pipeline.length;
    const waiting = this.minReplicasAcked > 0;
    if (waiting) pipeline.wait(this.minReplicasAcked, this.waitTimeoutMs);
    const replies = (await this.run(pipeline.exec(), waiting ? this.waitTimeoutMs : 0)) ?? [];
    const results: unknown[] = [];
    for (const [err, value] of replies.slice(0, writes)) {
      if (err) throw cleanRedisError(err);
      results.push(value);
    }
    if (waiting) {
      const [err, acked] = replies[writes] ?? [new Error('no reply to WAIT')];
      if (err) throw cleanRedisError(err);
      if (Number(acked) < this.minReplicasAcked) {
        this.counters.redisReplicaShortfalls++;
        throw new ReplicaShortfallError(Number(acked), this.minReplicasAcked);
      }
    }
    return results;
  }

  /** Finds out, in words naming the setting, why the target cannot be reached (for `/readyz` and the start-up log). */
  private async diagnose(): Promise<void> {
    if (this.closed) return;
    const found = await diagnoseTarget(this.target, this.serverOptions()).catch(() => undefined);
    if (this.client.status !== 'ready') this.diagnosis = found;
  }

  /** With REDIS_MIN_REPLICAS_ACKED > 0: is every master followed by that many online replicas? */
  private async checkReplicas(): Promise<void> {
    if (this.closed || this.client.status !== 'ready') return;
    const masters: Redis[] = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const short: string[] = [];
    try {
      for (const master of masters) {
        const info = await this.run(master.info('replication'));
        const online = info.split('\n').filter((line) => /^slave\d+:.*state=online/.test(line)).length;
        if (online < this.minReplicasAcked)
          short.push(`${this.client instanceof Cluster ? `${master.options.host}:${master.options.port}` : 'the master'} has ${online}`);
      }
      this.replicaProblem =
        short.length > 0
          ? `REDIS_MIN_REPLICAS_ACKED=${this.minReplicasAcked} but ${short.join(', ')} online replica(s); webhooks get 503 until enough replicas follow`
          : undefined;
    } catch {
      // The connection's own state tells /readyz about that.
    }
  }

  /** Why commands cannot be served now, for `/readyz`. */
  notReadyReason(): string | undefined {
    if (this.closed) return 'redis connection closed';
    if (this.client.status !== 'ready') {
      const why = this.diagnosis ?? this.lastError;
      return `redis ${this.client.status} (${describeTarget(this.target)}${why ? `: ${why}` : ''})`;
    }
    if (this.consecutiveTimeouts >= TIMEOUTS_BEFORE_RECONNECT) return 'redis not answering';
    return this.replicaProblem;
  }

  stats(): RedisConnectionStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await quitRedis(this.client);
  }
}

/** QUIT when connected (pending replies arrive first), else just drop the connection. */
export async function quitRedis(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
  else connection.disconnect();
}
