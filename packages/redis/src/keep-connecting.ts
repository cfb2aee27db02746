import type { Redis } from 'ioredis';

/** How long after an unasked-for `end` the client connects again (a failover needs a moment anyway). */
export const REVIVE_DELAY_MS = 250;

/**
 * Keeps a one-server or Sentinel client connecting until its owner closes it. ioredis can end such a client by itself:
 * a reconnect that is interrupted while it is still asking the sentinels for the master (its failover detector saw
 * +switch-master, or a `disconnect(true)` of ours) rejects with "Connection is closed." and ioredis sets the status to
 * `end` and never retries — a gateway's subscriber then stays silent for good (its feeds never hear another event;
 * the Sentinel failover test caught one). Connecting again restores what the client had: its subscriptions come back
 * with autoResubscribe, as after any reconnect. `isClosing` tells an `end` we asked for (close) from one we did not.
 */
export function keepConnecting(client: Redis, isClosing: () => boolean, onRevive?: () => void): void {
  client.on('end', () => {
    if (isClosing()) return;
    setTimeout(() => {
      if (isClosing() || client.status !== 'end') return;
      onRevive?.();
      client.connect().catch(() => undefined); // a failed attempt ends it again, and this runs again
    }, REVIVE_DELAY_MS).unref();
  });
}

/** `disconnect(true)` does nothing for an ended client: connect it instead. */
export function reconnectClient(client: Redis): void {
  if (client.status === 'end') client.connect().catch(() => undefined);
  else client.disconnect(true);
}
