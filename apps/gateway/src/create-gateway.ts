import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';
import type { Bus } from '@hookway/bus';
import { clientHeartbeatSchema, HEARTBEAT_ACK_FRAME, RawClose, secretFingerprint } from '@hookway/protocol';
import { refuseUpgrade, type HealthSource, type Logger } from '@hookway/runtime';
import { BotFeeds } from './bot-feeds.ts';
import type { BotDirectory } from '@hookway/bots';
import { GatewaySession, type GatewaySessionOptions } from './gateway-session.ts';
import type { StreamClient } from './stream-client.ts';
import { startHeartbeat } from './heartbeat.ts';
import { RawClient, type RawClientCounters } from './raw-client.ts';
import { parseUpgradeTarget } from './upgrade-request.ts';

export interface GatewayDeps {
  readonly bus: Pick<
    Bus,
    'subscribe' | 'head' | 'history' | 'locate' | 'markDelivered' | 'deliveredPosition' | 'isReady' | 'saveSession' | 'loadSession'
  >;
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
  /** Gateway mode (`/websocket`): who clients are, and the protocol's timings. Absent: only raw mode is served. */
  readonly gatewayMode?: Omit<GatewaySessionOptions, 'maxBufferedBytes'> & { readonly directory: BotDirectory };
}

/** A type alias (not an interface) so it stays assignable to HealthSource's record of counters. */
export type GatewayStats = {
  connections: number;
  bots: number;
  connectionsTotal: number;
  framesSent: number;
  slowConsumerCloses: number;
  unresponsiveTerminated: number;
  ignoredClientFrames: number;
  gapsBackfilled: number;
  gapsLost: number;
  gatewaySessions: number;
  gatewayAuthFailures: number;
  gatewayResumes: number;
  gatewayInvalidSessions: number;
};

export interface Gateway extends HealthSource {
  stats(): GatewayStats;
  /** Serves an HTTP upgrade: wire it to the server's `upgrade` event. */
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Closes every client with 1001 (reconnect), then drops the bus subscriptions. */
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
  const feeds = new BotFeeds(deps.bus, log);
  const clients = new Set<StreamClient>();
  const counters = {
    framesSent: 0,
    slowConsumerCloses: 0,
    ignoredFrames: 0,
    unresponsiveTerminated: 0,
    connectionsTotal: 0,
    authFailures: 0,
    resumes: 0,
    invalidSessions: 0,
  } satisfies RawClientCounters & Record<string, number>;
  let gatewaySessions = 0;
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
    if (socket instanceof Socket) socket.setKeepAlive(true, deps.tcpKeepaliveDelayMs);
    if (target.kind === 'gateway' && !deps.gatewayMode) return refuseUpgrade(socket, 404, 'not_found', 'gateway mode is not enabled here');
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (target.kind === 'gateway') attachGatewaySession(ws, target.secret);
      else attachRawClient(ws, target.secret, target.after).catch((err: unknown) => log.error({ err }, 'raw client setup failed'));
    });
  }

  async function attachRawClient(ws: WebSocket, secret: string, after: string | undefined): Promise<void> {
    const bot = secretFingerprint(secret);
    const client = new RawClient(ws, secret, { maxBufferedBytes: deps.maxBufferedBytes }, counters);
    let joined = false;
    ws.on('error', (err) => log.debug({ bot, err: err.message }, 'client socket error'));
    track(
      client,
      (data, isBinary) => {
        if (isBinary || !isClientHeartbeat(data)) return false;
        client.sendControl(HEARTBEAT_ACK_FRAME);
        return true;
      },
      (code) => {
        log.info({ bot, code, connections: clients.size }, 'client disconnected');
        if (joined) feeds.leave(secret, client);
      },
    );

    try {
      joined = true;
      const feed = await feeds.join(secret, client);
      if (ws.readyState !== WebSocket.OPEN) return feeds.leave(secret, client);
      log.info({ bot, resume: after !== undefined, connections: clients.size }, 'client connected');
      const lastReplayed = await client.catchUp(deps.bus, after);
      if (lastReplayed) feed.noteDelivered(lastReplayed);
    } catch (err) {
      log.error({ bot, err }, 'could not start client stream');
      client.closeWith(RawClose.InternalError);
    }
  }

  function attachGatewaySession(ws: WebSocket, secret: string | undefined): void {
    const mode = deps.gatewayMode!;
    const session = new GatewaySession(
      ws,
      secret,
      { ...mode, maxBufferedBytes: deps.maxBufferedBytes },
      { bus: deps.bus, feeds, directory: mode.directory, logger: log, counters },
    );
    gatewaySessions++;
    ws.on('error', (err) => log.debug({ err: err.message }, 'gateway socket error'));
    track(
      session,
      (data, isBinary) => !isBinary && session.onFrame(rawText(data)),
      (code) => {
        session.dispose();
        gatewaySessions--;
        if (session.joinedBot) feeds.leave(session.joinedBot, session);
        if (session.sessionBot) void session.persist().catch(() => undefined);
        log.info({ code, connections: clients.size }, 'gateway client disconnected');
      },
    );
  }

  /**
   * What every connection shares: tracked for heartbeats and shutdown, alive on any pong or frame, frames the
   * client kind does not take counted as ignored, and untracked when it closes.
   */
  function track(
    client: StreamClient,
    onFrame: (data: WebSocket.RawData, isBinary: boolean) => boolean,
    onClose: (code: number) => void,
  ): void {
    clients.add(client);
    counters.connectionsTotal++;
    client.ws.on('pong', () => (client.isAlive = true));
    client.ws.on('message', (data, isBinary) => {
      client.isAlive = true;
      if (!onFrame(data, isBinary)) counters.ignoredFrames++;
    });
    client.ws.on('close', (code) => {
      client.markClosed();
      clients.delete(client);
      onClose(code);
    });
  }

  async function close(): Promise<void> {
    closing = true;
    heartbeat.stop();
    const closed = [...clients].map((c) => new Promise<void>((resolve) => c.ws.once('close', () => resolve())));
    const batchSize = deps.closeBatchSize ?? Number.POSITIVE_INFINITY;
    const pending = [...clients];
    while (pending.length > 0) {
      for (const client of pending.splice(0, batchSize)) {
        if (client instanceof GatewaySession) client.reconnectElsewhere();
        else client.closeWith(RawClose.GoingAway);
      }
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
    notReadyReason: () => (closing ? 'shutting down' : deps.bus.isReady() ? undefined : 'bus not ready'),
    stats: () => ({
      connections: clients.size,
      bots: feeds.botCount,
      connectionsTotal: counters.connectionsTotal,
      framesSent: counters.framesSent,
      slowConsumerCloses: counters.slowConsumerCloses,
      unresponsiveTerminated: counters.unresponsiveTerminated,
      ignoredClientFrames: counters.ignoredFrames,
      ...feeds.counters,
      gatewaySessions,
      gatewayAuthFailures: counters.authFailures,
      gatewayResumes: counters.resumes,
      gatewayInvalidSessions: counters.invalidSessions,
    }),
  };
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
}

function isClientHeartbeat(data: WebSocket.RawData): boolean {
  const text = rawText(data);
  if (!text.includes('"op"')) return false;
  try {
    return clientHeartbeatSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}
