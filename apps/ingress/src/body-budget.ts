import { isIP } from 'node:net';

/**
 * One client may hold at most this fraction of the budget (but always one maximal body). The platform's callbacks
 * are small (a few KiB) and come from many addresses, so they never come near it; an attacker needs eight addresses
 * (eight IPv6 /64s) to exhaust the budget instead of one, and while they hold their eighth everyone else still has
 * seven.
 */
export const CLIENT_SHARE_DIVISOR = 8;

/** Webhook body bytes a request may hold while its body is read and the webhook decided. */
export interface BodyHold {
  /** Grows the hold to `bytes` in all (a chunked body, as it arrives); false when the client's share or the total is spent. */
  cover(bytes: number): boolean;
  /** Gives the bytes back; idempotent. */
  release(): void;
}

/**
 * Clients whose holds all ended keep an entry of 0 until there are more than this many: deleting and re-adding a
 * client's entry for every webhook (the platform's few addresses come back at once) made V8 rebuild the map's table
 * over and over, ~150 bytes of old-generation garbage per webhook (issue 11: the heap's growth sets how often the
 * full collection runs).
 */
export const IDLE_CLIENTS_KEPT = 1024;

/**
 * The webhook body budget (WEBHOOK_BODY_BUDGET_BYTES): bytes of webhook bodies held at once, in total and per client
 * (see CLIENT_SHARE_DIVISOR). A request reserves its declared Content-Length before a byte of its body is read, so
 * bodies that would not fit are refused before they cost memory.
 */
export class BodyBudget {
  readonly perClientBytes: number;
  private held = 0;
  /** Bytes held by client; 0 for a client with nothing held (kept, up to IDLE_CLIENTS_KEPT of them). */
  private readonly byClient = new Map<string, number>();
  /** Entries of byClient above 0. */
  private holdingCount = 0;

  constructor(
    readonly totalBytes: number,
    maxBodyBytes: number,
  ) {
    this.perClientBytes = Math.min(totalBytes, Math.max(maxBodyBytes, Math.floor(totalBytes / CLIENT_SHARE_DIVISOR)));
  }

  /** A hold of `bytes` for the client at `address`, or undefined when it does not fit. */
  reserve(address: string, bytes: number): BodyHold | undefined {
    const client = clientKey(address);
    let mine = 0;
    let released = false;
    const hold: BodyHold = {
      cover: (bytes) => {
        if (released) return false;
        const more = bytes - mine;
        if (more <= 0) return true;
        const theirs = this.byClient.get(client) ?? 0;
        if (this.held + more > this.totalBytes || theirs + more > this.perClientBytes) return false;
        this.held += more;
        if (theirs === 0) this.holdingCount++;
        this.byClient.set(client, theirs + more);
        mine = bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        if (mine === 0) return;
        this.held -= mine;
        const left = (this.byClient.get(client) ?? 0) - mine;
        this.byClient.set(client, left);
        if (left === 0 && --this.holdingCount + IDLE_CLIENTS_KEPT < this.byClient.size) this.forgetIdleClients();
      },
    };
    return hold.cover(bytes) ? hold : undefined;
  }

  get bytesHeld(): number {
    return this.held;
  }

  /** Clients currently holding bytes (bounded by the open connections). */
  get clientsHolding(): number {
    return this.holdingCount;
  }

  /** Entries kept for clients, holding or not (at most the holding ones + IDLE_CLIENTS_KEPT + 1). */
  get clientsKnown(): number {
    return this.byClient.size;
  }

  private forgetIdleClients(): void {
    for (const [client, bytes] of this.byClient) if (bytes === 0) this.byClient.delete(client);
  }
}

/**
 * Who counts as one client: an IPv4 address, or an IPv6 /64 (one subscriber usually has a whole /64, so single
 * addresses would be free to mint).
 */
export function clientKey(address: string): string {
  // An IPv4 address (a webhook's usual peer) as it is: without `:` it cannot be IPv6, without `%` no zone to strip.
  if (!address.includes(':') && !address.includes('%')) return address;
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = bare.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = bare.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  // A dotted IPv4 tail (`64:ff9b::192.0.2.1`) stands for two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = bare.includes('::') ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
