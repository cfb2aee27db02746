import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** What a trusted proxy told us about the original request. */
export interface ForwardedFacts {
  /** The client's address: the proxy's X-Forwarded-For, else the socket's peer. */
  readonly clientAddress: string;
  /** `https` or `http` as the client used it (X-Forwarded-Proto from a trusted proxy), if said. */
  readonly proto: string | undefined;
  /** The host the client asked for (X-Forwarded-Host from a trusted proxy, else Host), if any. */
  readonly host: string | undefined;
}

export interface ProxyTrust {
  /** X-Forwarded-* are believed only when the socket's peer is a trusted proxy; otherwise they are ignored. */
  facts(req: IncomingMessage): ForwardedFacts;
  /** Shorthand for `facts(req).clientAddress`. */
  clientAddress(req: IncomingMessage): string;
  /** Whether this socket peer is a trusted proxy (its forwarding headers are believed). */
  trusts(peer: string): boolean;
}

const TRUST_VERDICTS_MAX = 4096;
const unmapped = (address: string) => (address.startsWith('::ffff:') ? address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') : address);
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;

/**
 * The TRUST_PROXY rule, written once: `loopback`, addresses and CIDR ranges (as the config validated them).
 * Client addresses in logs, limits and the status page, and the host `GET /gateway` answers with, all come from it.
 */
export function createProxyTrust(entries: readonly string[]): ProxyTrust {
  const trusted = new BlockList();
  for (const entry of entries) {
    if (entry === 'loopback') {
      trusted.addSubnet('127.0.0.0', 8, 'ipv4');
      trusted.addAddress('::1', 'ipv6');
      continue;
    }
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(bits), family);
  }
  // BlockList.check builds a SocketAddress per call (~7 µs): remember the answer per peer (bounded by the peers seen).
  const verdicts = new Map<string, boolean>();
  const isTrusted = (address: string) => {
    let verdict = verdicts.get(address);
    if (verdict === undefined) {
      const family = isIP(address);
      verdict = family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
      if (verdicts.size >= TRUST_VERDICTS_MAX) verdicts.clear();
      verdicts.set(address, verdict);
    }
    return verdict;
  };

  /** The client: the peer itself, unless it is a trusted proxy that says (X-Forwarded-For) whom it forwards for. */
  const clientOf = (req: IncomingMessage, peer: string): string => {
    const forwardedFor = req.headers['x-forwarded-for'];
    // Most requests (every webhook sent straight to Hookway) carry none: nothing to split or walk.
    if (forwardedFor === undefined || !isTrusted(peer)) return peer;
    // The right-most address a trusted proxy appended is the one it saw; walk left past other trusted proxies.
    const chain = String(forwardedFor)
      .split(',')
      .map((a) => unmapped(a.trim()))
      .filter((a) => isIP(a) !== 0);
    let client = peer;
    while (chain.length > 0 && isTrusted(client)) client = chain.pop()!;
    return client;
  };
  const facts = (req: IncomingMessage): ForwardedFacts => {
    const peer = unmapped(req.socket.remoteAddress ?? '');
    const clientAddress = clientOf(req, peer);
    if (!isTrusted(peer)) return { clientAddress, proto: undefined, host: first(req.headers.host) };
    return {
      clientAddress,
      proto: first(req.headers['x-forwarded-proto'])?.toLowerCase(),
      host: first(req.headers['x-forwarded-host']) ?? first(req.headers.host),
    };
  };
  // Per webhook: only the client address, not the forwarded protocol and host.
  const clientAddress = (req: IncomingMessage): string => clientOf(req, unmapped(req.socket.remoteAddress ?? ''));
  return { facts, clientAddress, trusts: (peer) => isTrusted(unmapped(peer)) };
}
