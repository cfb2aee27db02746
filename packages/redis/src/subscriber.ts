import type { Cluster, Redis } from 'ioredis';
import { keepConnecting, reconnectClient } from './keep-connecting.ts';

/**
 * A pub/sub connection: classic SUBSCRIBE on one server or a Sentinel master, sharded SSUBSCRIBE on a Cluster
 * (one connection per master, each channel on the shard owning its slot). Messages arrive as bytes.
 */
export interface ChannelSubscriber {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  onMessage(listener: (channel: string, message: Buffer) => void): void;
  /**
   * Called after the subscriptions were re-established (a reconnect, a failover, a new slot owner): anything
   * published meanwhile was missed, so feeds should resync from history.
   */
  onResubscribed(listener: () => void): void;
  onError(listener: (err: Error) => void): void;
  /** Why it cannot receive now, or undefined when it can. */
  notReadyReason(): string | undefined;
  isReady(): boolean;
  /** Drops and re-establishes the connection(s) (e.g. after an unanswered probe). */
  reconnect(): void;
  /**
   * Re-learns where channels live (a Cluster's slot map, which moves the sharded subscriptions to the current
   * owners and reports `onResubscribed` if anything changed); nothing on one server.
   */
  refresh(): void;
  close(): Promise<void>;
}

async function quit(client: Redis | Cluster): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/** One server or a Sentinel master: SUBSCRIBE on one connection, which ioredis re-subscribes after a reconnect. */
export class ServerChannelSubscriber implements ChannelSubscriber {
  private wasReady = false;
  private closing = false;
  private readonly resubscribed: (() => void)[] = [];

  constructor(
    private readonly client: Redis,
    onRevive?: () => void,
  ) {
    keepConnecting(client, () => this.closing, onRevive);
    client.on('ready', () => {
      // After a reconnect ioredis resubscribes, but anything published meanwhile was missed: report it after a
      // PING round trip, whose reply comes after the SUBSCRIBE confirmations, so nothing slips between.
      if (this.wasReady) {
        const report = () => this.resubscribed.forEach((l) => l());
        client.ping().then(report, report);
      }
      this.wasReady = true;
    });
  }

  async subscribe(channel: string): Promise<void> {
    await this.client.subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.client.unsubscribe(channel);
  }

  onMessage(listener: (channel: string, message: Buffer) => void): void {
    this.client.on('messageBuffer', (channel: Buffer, message: Buffer) => listener(channel.toString(), message));
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener);
  }

  onError(listener: (err: Error) => void): void {
    this.client.on('error', listener);
  }

  notReadyReason(): string | undefined {
    return this.client.status === 'ready' ? undefined : `redis subscriber ${this.client.status}`;
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  reconnect(): void {
    reconnectClient(this.client);
  }

  refresh(): void {
    // One connection to one master: nothing to re-learn.
  }

  close(): Promise<void> {
    this.closing = true;
    return quit(this.client);
  }
}

/**
 * A Cluster: SSUBSCRIBE through ioredis's sharded subscribers, which follow slot moves and failovers and emit
 * `subscribersReady` once they have re-subscribed on the new owners.
 *
 * `reconnect` replaces the whole Cluster client instead of `disconnect(true)`: ioredis 6 lets a slot refresh that
 * was in flight refill the connection pool after `disconnect(true)` emptied it, so the pool never drains, the
 * client stays `disconnecting` for good and its subscriptions are never re-established (seen in the failover
 * test). A new client subscribes every channel this one holds, then reports `onResubscribed`.
 */
export class ClusterChannelSubscriber implements ChannelSubscriber {
  private cluster: Cluster;
  /** The channels subscribed (or being subscribed), to subscribe again on a replacement client. */
  private readonly channels = new Set<string>();
  private readonly resubscribed: (() => void)[] = [];
  private readonly messageListeners: ((channel: string, message: Buffer) => void)[] = [];
  private readonly errorListeners: ((err: Error) => void)[] = [];
  private started = false;
  private closed = false;

  constructor(private readonly openCluster: () => Cluster) {
    this.cluster = this.attach(openCluster());
  }

  private attach(cluster: Cluster): Cluster {
    const current = () => cluster === this.cluster && !this.closed;
    cluster.on('subscribersReady', () => {
      if (current() && this.started) this.report();
    });
    cluster.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
      if (!current()) return;
      const name = channel.toString();
      for (const listener of this.messageListeners) listener(name, message);
    });
    cluster.on('error', (err: Error) => {
      if (current()) for (const listener of this.errorListeners) listener(err);
    });
    return cluster;
  }

  private report(): void {
    for (const listener of this.resubscribed) listener();
  }

  async subscribe(channel: string): Promise<void> {
    this.started = true;
    this.channels.add(channel);
    await this.cluster.ssubscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    await this.cluster.sunsubscribe(channel);
  }

  onMessage(listener: (channel: string, message: Buffer) => void): void {
    this.messageListeners.push(listener);
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener);
  }

  onError(listener: (err: Error) => void): void {
    this.errorListeners.push(listener);
  }

  notReadyReason(): string | undefined {
    return this.cluster.status === 'ready' ? undefined : `redis cluster subscriber ${this.cluster.status}`;
  }

  isReady(): boolean {
    return this.cluster.status === 'ready';
  }

  reconnect(): void {
    if (this.closed) return;
    const old = this.cluster;
    const fresh = this.attach(this.openCluster());
    this.cluster = fresh;
    old.disconnect();
    // Queued until the new client is ready; each resolves with its SSUBSCRIBE reply on the slot's owner.
    const report = () => {
      if (fresh === this.cluster && !this.closed) this.report();
    };
    Promise.allSettled([...this.channels].map((channel) => fresh.ssubscribe(channel))).then(report, report);
  }

  refresh(): void {
    if (this.cluster.status === 'ready') this.cluster.refreshSlotsCache();
  }

  close(): Promise<void> {
    this.closed = true;
    return quit(this.cluster);
  }
}
