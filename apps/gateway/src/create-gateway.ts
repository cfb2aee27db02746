import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions } from 'ws';
import type { BotDirectory } from '@hookway/bots';
import type { EventReader } from '@hookway/bus';
import { refuseUpgrade, type HealthSource, type Logger } from '@hookway/runtime';
import { GatewaySession, type GatewaySessionCounters, type GatewaySessionOptions } from './official/gateway-session.ts';
import type { SessionStore } from './official/session-store.ts';
import { RawClient } from './raw/raw-client.ts';
import { BotFeeds } from './shared/bot-feeds.ts';
import { startHeartbeat } from './shared/heartbeat.ts';
import type { StreamClient, StreamClientContext, StreamClientCounters } from './shared/stream-client.ts';
import { parseUpgradeTarget } from './upgrade-request.ts';

export interface GatewayDeps {
  readonly events: EventReader;
  readonly logger: Logger;
  readonly pingIntervalMs: number;
  readonly terminateUnresponsive: boolean;
  readonly maxClientFrameBytes: number;
  readonly maxBufferedBytes: number;
  readonly tcpKeepaliveDelayMs: number;
  /** On close, clients get 1001 this many at a time… */
  readonly closeBatchSize?: number;
  /** …with this pause between batches, so they do not all reconnect elsewhere at once. */
  readonly closeBatchIntervalMs?: number;
  /** Gateway mode (`/websocket`): who clients are, where sessions live, the protocol's timings. Absent: raw mode only. */
  readonly gatewayMode?: GatewaySessionOptions & { readonly directory: BotDirectory; readonly sessions: SessionStore };
}

/** Every counter, under the one name it has from where it is counted to `/healthz`. */
export type GatewayStats = StreamClientCounters &
  GatewaySessionCounters & {
    connections: number;
    bots: number;
    connectionsTotal: number;
    unresponsiveTerminated: number;
    gapsBackfilled: number;
    gapsLost: number;
  };

export interface Gateway extends HealthSource {
  stats(): GatewayStats;
  /** Serves an HTTP upgrade: wire it to the server's `upgrade` event. */
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Tells every client to reconnect elsewhere (each kind in its own words), then drops the bus subscriptions. */
  close(): Promise<void>;
}

/** How long clients get to answer our close frame before their sockets are destroyed. */
const CLOSE_GRACE_MS = 3000;

export function createGateway(deps: GatewayDeps): Gateway {
  const log = deps.logger;
  // closeTimeout (ws ≥ 8.19) is missing from @types/ws: how long a closed socket may linger unanswered.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: deps.maxClientFrameBytes,
    closeTimeout: CLOSE_GRACE_MS,
  };
  const wss = new WebSocketServer(serverOptions);
  const feeds = new BotFeeds(deps.events, log);
  const clients = new Set<StreamClient>();
  const counters = {
    framesSent: 0,
    slowConsumerCloses: 0,
    ignoredClientFrames: 0,
    connectionsTotal: 0,
    unresponsiveTerminated: 0,
  };
  const sessionCounters: GatewaySessionCounters = {
    gatewaySessions: 0,
    gatewayAuthFailures: 0,
    gatewayResumes: 0,
    gatewayInvalidSessions: 0,
  };
  const context: StreamClientContext = {
    events: deps.events,
    feeds,
    logger: log,
    counters,
    maxBufferedBytes: deps.maxBufferedBytes,
    clients,
  };
  const { gatewayMode } = deps;
  const gatewayContext = gatewayMode && {
    directory: gatewayMode.directory,
    sessions: gatewayMode.sessions,
    counters: sessionCounters,
    options: gatewayMode,
  };
  let closing = false;

  const heartbeat = startHeartbeat(() => clients, {
    intervalMs: deps.pingIntervalMs,
    terminateUnresponsive: deps.terminateUnresponsive,
    onTerminate: () => counters.unresponsiveTerminated++,
  });

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (closing) return refuseUpgrade(socket, 503, 'shutting_down', 'server is shutting down; reconnect to another instance');
    const target = parseUpgradeTarget(req.url);
    if (target.kind === 'refused') return refuseUpgrade(socket, target.status, target.error, target.message);
    if (target.kind === 'gateway' && !gatewayContext) return refuseUpgrade(socket, 404, 'not_found', 'gateway mode is not enabled here');
    if (socket instanceof Socket) socket.setKeepAlive(true, deps.tcpKeepaliveDelayMs);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client =
        target.kind === 'gateway'
          ? new GatewaySession(ws, context, gatewayContext!, target.secret)
          : new RawClient(ws, context, target.secret, target.after);
      clients.add(client);
      counters.connectionsTotal++;
      client.start();
    });
  }

  async function close(): Promise<void> {
    closing = true;
    heartbeat.stop();
    const closed = [...clients].map((c) => c.closed);
    const batchSize = deps.closeBatchSize ?? Number.POSITIVE_INFINITY;
    const pending = [...clients];
    while (pending.length > 0) {
      for (const client of pending.splice(0, batchSize)) client.shutdown();
      if (pending.length > 0 && deps.closeBatchIntervalMs) await new Promise((r) => setTimeout(r, deps.closeBatchIntervalMs));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS).unref()))]);
    clearTimeout(timer);
    for (const client of clients) client.terminate();
    await feeds.close();
    wss.close();
  }

  return {
    handleUpgrade,
    close,
    notReadyReason: () => (closing ? 'shutting down' : deps.events.isReady() ? undefined : 'bus not ready'),
    stats: () => ({
      connections: clients.size,
      bots: feeds.botCount,
      ...counters,
      ...feeds.counters,
      ...sessionCounters,
    }),
  };
}
