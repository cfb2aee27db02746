/** Something the heartbeat can ping and, when it stays silent, terminate. */
export interface Pingable {
  isAlive: boolean;
  ping(): void;
  terminate(): void;
}

export interface HeartbeatOptions {
  readonly intervalMs: number;
  /** False keeps pinging (NAT keep-alive) but never terminates: for clients that never answer pings. */
  readonly terminateUnresponsive: boolean;
  readonly onTerminate?: () => void;
}

/**
 * ws's recipe: one timer for all clients; a client that has not answered the previous ping (or sent anything)
 * by the next tick is terminated. A dead peer is found within one to two intervals.
 */
export function startHeartbeat(clients: () => Iterable<Pingable>, options: HeartbeatOptions): { stop(): void } {
  const timer = setInterval(() => {
    for (const client of clients()) {
      if (!client.isAlive && options.terminateUnresponsive) {
        options.onTerminate?.();
        client.terminate();
        continue;
      }
      client.isAlive = false;
      client.ping();
    }
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
