import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type ServerOptions } from 'ws';
import { NO_STANDING, type BotDirectory, type BotStanding, type CallOpenApi } from '@hookway/bots';
import type { EventReader } from '@hookway/bus';
import type { ClientKeyStore } from '@hookway/keys';
import type { AppSecret } from '@hookway/protocol';
import {
  refuseUpgrade,
  type AuthFailureThrottle,
  type GatewayMetrics,
  type HealthSource,
  type Logger,
  type ProxyTrust,
} from '@hookway/runtime';
import { CheckSockets } from './check-sockets.ts';
import { GatewaySession, type Admission, type GatewaySessionCounters, type GatewaySessionOptions } from './official/gateway-session.ts';
import type { SessionStore } from './official/session-store.ts';
import type { RawCallCounters } from './raw/calls.ts';
import { RawClient, type RawView } from './raw/raw-client.ts';
import { helloBot, narrowEvents } from './raw/raw-view.ts';
import { BotFeeds } from './shared/bot-feeds.ts';
import type { CoalesceRule } from './shared/fan-out.ts';
import { ClientKeys, type KeyGrant } from './shared/client-keys.ts';
import { startHeartbeat } from './shared/heartbeat.ts';
import { startKeyRecheck } from './shared/key-recheck.ts';
import { LeanWebSocket } from './shared/lean-websocket.ts';
import type { ClientActivity, StreamClient, StreamClientContext, StreamClientCounters } from './shared/stream-client.ts';
import { parseUpgradeTarget, type UpgradeTarget } from './upgrade-request.ts';

export interface GatewayDeps {
  readonly events: EventReader;
  readonly logger: Logger;
  readonly pingIntervalMs: number;
  readonly terminateUnresponsive: boolean;
  readonly maxClientFrameBytes: number;
  readonly maxBufferedBytes: number;
  /** FANOUT_BACKLOG_MAX_BYTES: event bytes a bot's feed may hold for its clients before it cuts the ones behind. */
  readonly maxFanOutBacklogBytes?: number;
  /** FANOUT_FRAMES_PER_TURN: client writes per event-loop turn before other I/O gets in. */
  readonly fanOutFramesPerTurn?: number;
  /** FANOUT_COALESCE_MS and FANOUT_COALESCE_MIN_CLIENTS: how a bot with many clients here has its events share writes. */
  readonly fanOutCoalesce?: CoalesceRule;
  readonly tcpKeepaliveDelayMs: number;
  /** On close, clients get 1001 this many at a time… */
  readonly closeBatchSize?: number;
  /** …with this pause between batches, so they do not all reconnect elsewhere at once. */
  readonly closeBatchIntervalMs?: number;
  /** Who the bots are (configured and learned): a client key's appid → its AppSecret; gateway-mode tokens. */
  readonly directory: BotDirectory;
  /** The client keys clients may present instead of the AppSecret. */
  readonly keys: ClientKeyStore;
  /** ALLOW_SECRET_IN_URL: false refuses the AppSecret in `/ws` and `/websocket` URLs with 403. */
  readonly allowSecretInUrl: boolean;
  /** Where a client's address comes from (TRUST_PROXY), for the failure throttle and logs. */
  readonly proxyTrust: ProxyTrust;
  /** Failed key and token authentications per client address; past the limit, upgrades get 429 before any lookup. */
  readonly authFailures: AuthFailureThrottle;
  /** Told which clients are connected (bot, mode, address, key name), for the status page. */
  readonly activity?: ClientActivity;
  /** Raw clients' call frames go here (Hookway's own token for the connection's bot); undefined: calls are refused. */
  readonly callOpenApi?: CallOpenApi;
  /** RAW_CALLS_IN_FLIGHT_MAX: calls one raw connection may have waiting for the platform. */
  readonly maxCallsInFlight?: number;
  /** What the webhook saw of a bot (BotActivity), for raw clients' `hello=1`; without it hello says nothing was seen. */
  readonly botStanding?: (bot: AppSecret) => Promise<BotStanding>;
  /** Gateway mode (`/websocket`): where sessions live, the protocol's timings. Absent: raw mode only. */
  readonly gatewayMode?: GatewaySessionOptions & { readonly sessions: SessionStore };
  /** Where frames, closes and clients are counted (`GET /metrics`). */
  readonly metrics?: GatewayMetrics;
}

/** Every counter, under the one name it has from where it is counted to `/healthz`. */
export type GatewayStats = StreamClientCounters &
  GatewaySessionCounters &
  RawCallCounters & {
    connections: number;
    bots: number;
    connectionsTotal: number;
    unresponsiveTerminated: number;
    gapsBackfilled: number;
    gapsLost: number;
    /** Clients closed (as slow consumers) because their bot's fan-out backlog passed FANOUT_BACKLOG_MAX_BYTES. */
    fanOutBacklogCloses: number;
    /** Event bytes queued for fan-out right now, over all bots. */
    fanOutBacklogBytes: number;
    /** Upgrades refused because a client key was wrong, expired or of an unknown bot (401). */
    clientKeyRefusals: number;
    /** Connections closed because their client key was revoked or expired. */
    clientKeyRevocationCloses: number;
    /** Upgrades refused with 429: their address failed to authenticate too often. */
    authThrottled: number;
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

/** An upgrade that will be served. */
type Served = Extract<UpgradeTarget, { kind: 'raw' | 'gateway' }>;

const NO_VIEW: RawView = Object.freeze({});

/** One function for every upgraded socket, not a closure per connection (it stays for the socket's life). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

const grantOf = (admission: Admission | undefined): KeyGrant | undefined => (admission?.via === 'key' ? admission.grant : undefined);

export function createGateway(deps: GatewayDeps): Gateway {
  const log = deps.logger;
  // closeTimeout (ws ≥ 8.19) is missing from @types/ws: how long a closed socket may linger unanswered.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: deps.maxClientFrameBytes,
    closeTimeout: CLOSE_GRACE_MS,
    WebSocket: LeanWebSocket,
  };
  const wss = new WebSocketServer(serverOptions);
  const clients = new Set<StreamClient>();
  const counters = {
    framesSent: 0,
    slowConsumerCloses: 0,
    ignoredClientFrames: 0,
    connectionsTotal: 0,
    unresponsiveTerminated: 0,
    clientKeyRefusals: 0,
    clientKeyRevocationCloses: 0,
    authThrottled: 0,
  };
  const sessionCounters: GatewaySessionCounters = {
    gatewaySessions: 0,
    gatewayAuthFailures: 0,
    gatewayResumes: 0,
    gatewayInvalidSessions: 0,
  };
  const callCounters: RawCallCounters = { rawCalls: 0, rawCallErrors: 0 };
  // Counted once per event, however many clients it went to (a prom-client label lookup per frame is not free).
  const feeds = new BotFeeds(deps.events, log, {
    ...(deps.maxFanOutBacklogBytes !== undefined ? { maxBacklogBytes: deps.maxFanOutBacklogBytes } : {}),
    ...(deps.fanOutFramesPerTurn !== undefined ? { framesPerTurn: deps.fanOutFramesPerTurn } : {}),
    ...(deps.fanOutCoalesce !== undefined ? { coalesce: deps.fanOutCoalesce } : {}),
    onFannedOut: (bot, event, written) => {
      counters.framesSent += written.raw + written.gateway;
      if (written.raw > 0) deps.metrics?.delivered('raw', bot.tag, event.acceptedAtMs, written.raw);
      if (written.gateway > 0) deps.metrics?.delivered('gateway', bot.tag, event.acceptedAtMs, written.gateway);
    },
  });
  const context: StreamClientContext = {
    events: deps.events,
    feeds,
    logger: log,
    counters,
    maxBufferedBytes: deps.maxBufferedBytes,
    clients,
    ...(deps.activity ? { activity: deps.activity } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    calls: { callOpenApi: deps.callOpenApi, maxInFlight: deps.maxCallsInFlight ?? 8, counters: callCounters, logger: log },
  };
  deps.metrics?.watchGateway({
    clientsByMode: () => {
      const counts = { raw: 0, gateway: 0 };
      for (const client of clients) counts[client.clientMode]++;
      return counts;
    },
    feeds: () => feeds.snapshot(),
    gaps: () => ({ backfilled: feeds.counters.gapsBackfilled, lost: feeds.counters.gapsLost }),
  });
  const keys = new ClientKeys(deps.keys, deps.directory);
  const checks = new CheckSockets(deps.events, log);
  const { gatewayMode } = deps;
  const gatewayContext = gatewayMode && {
    directory: deps.directory,
    keys,
    authFailures: deps.authFailures,
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
  const keyRecheck = startKeyRecheck(
    () => clients,
    keys,
    log,
    (closed) => (counters.clientKeyRevocationCloses += closed),
  );

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    if (closing) return refuseUpgrade(socket, 503, 'shutting_down', 'server is shutting down; reconnect to another instance');
    const address = deps.proxyTrust.clientAddress(req);
    // Before anything is parsed or looked up: an address past its failures costs almost nothing.
    const retryAfter = deps.authFailures.retryAfterSec(address);
    if (retryAfter !== undefined) {
      counters.authThrottled++;
      return refuseUpgrade(
        socket,
        429,
        'too_many_failures',
        `too many failed authentications from this address; try again in ${retryAfter} s`,
        {
          'Retry-After': String(retryAfter),
        },
      );
    }
    const target = parseUpgradeTarget(req, { allowSecretInUrl: deps.allowSecretInUrl });
    if (target.kind === 'refused') {
      if (target.status === 401) refuseKey(address, target.error);
      return refuseUpgrade(socket, target.status, target.error, target.message);
    }
    if (target.kind === 'check') return upgradeCheck(req, socket, head, target.nonce, target.key, address);
    if (target.kind === 'gateway' && !gatewayContext) return refuseUpgrade(socket, 404, 'not_found', 'gateway mode is not enabled here');
    const credential = target.credential;
    if (credential?.kind !== 'key') {
      return accept(req, socket, head, target, credential && { via: 'secret', bot: credential.secret }, address);
    }
    admitWithKey(req, socket, head, target, credential.key, address).catch((err: unknown) => {
      log.error({ err }, 'client key upgrade failed');
      socket.destroy();
    });
  }

  /** Looks the key up; the upgrade goes on as the key's bot, or is answered 401 (503 when the keys cannot be read). */
  async function admitWithKey(req: IncomingMessage, socket: Duplex, head: Buffer, target: Served, key: string, address: string) {
    let check;
    try {
      check = await keys.check(key);
    } catch (err) {
      log.error({ err }, 'client keys could not be read');
      return refuseUpgrade(socket, 503, 'keys_unavailable', 'client keys cannot be checked right now; try again shortly');
    }
    if (!check.ok) {
      refuseKey(address, check.error, check.keyName, check.countsAsFailure);
      return refuseUpgrade(socket, 401, check.error, check.message);
    }
    if (closing) return refuseUpgrade(socket, 503, 'shutting_down', 'server is shutting down; reconnect to another instance');
    if (socket.destroyed) return;
    accept(req, socket, head, target, { via: 'key', bot: check.bot, grant: check.grant }, address);
  }

  /** `hookway check`'s socket: with a client key, only once the key is found good (its bot is named in the ready frame). */
  function upgradeCheck(req: IncomingMessage, socket: Duplex, head: Buffer, nonce: string, key: string | undefined, address: string) {
    if (checks.full) return refuseUpgrade(socket, 503, 'too_many_checks', 'too many checks are running here; try again in a minute');
    const open = (admitted?: { grant: KeyGrant; bot: AppSecret }) =>
      wss.handleUpgrade(req, socket, head, (ws) =>
        checks.open(
          ws,
          nonce,
          admitted && {
            name: admitted.grant.name,
            appid: admitted.grant.appid,
            bot: admitted.bot.tag,
            ...(admitted.grant.events ? { events: [...admitted.grant.events] } : {}),
          },
        ),
      );
    if (key === undefined) return open();
    keys.check(key).then(
      (check) => {
        if (!check.ok) {
          refuseKey(address, check.error, check.keyName, check.countsAsFailure);
          return refuseUpgrade(socket, 401, check.error, check.message);
        }
        if (closing) return refuseUpgrade(socket, 503, 'shutting_down', 'server is shutting down; reconnect to another instance');
        if (!socket.destroyed) open(check);
      },
      (err: unknown) => {
        log.error({ err }, 'client keys could not be read');
        refuseUpgrade(socket, 503, 'keys_unavailable', 'client keys cannot be checked right now; try again shortly');
      },
    );
  }

  function refuseKey(address: string, error: string, keyName?: string, countsAsFailure = true): void {
    counters.clientKeyRefusals++;
    if (countsAsFailure) deps.authFailures.recordFailure(address);
    log.warn({ address, error, ...(keyName !== undefined ? { key: keyName } : {}) }, 'client key refused');
  }

  /** A raw client's filter (within its key's limit) and hello, or the 403 for asking beyond the key. */
  function rawView(target: Extract<Served, { kind: 'raw' }>, admission: Admission): RawView | { refused: string } {
    const grant = grantOf(admission);
    const decision = narrowEvents(target.events, grant);
    if (!decision.ok) return { refused: decision.message };
    const bot = admission.bot;
    const hello = async () => {
      const [appid, standing] = await Promise.all([
        grant?.appid ?? deps.directory.appidOf(bot).catch(() => undefined),
        (deps.botStanding?.(bot) ?? Promise.resolve(NO_STANDING)).catch((err: unknown) => {
          log.warn({ bot: bot.tag, err }, 'bot activity could not be read for hello');
          return undefined;
        }),
      ]);
      return helloBot(appid, standing);
    };
    // Most clients ask for neither: they share one empty view.
    if (decision.events === undefined && !target.hello) return NO_VIEW;
    return { events: decision.events, hello: target.hello ? hello : undefined };
  }

  function accept(req: IncomingMessage, socket: Duplex, head: Buffer, target: Served, admission: Admission | undefined, address: string) {
    const view = target.kind === 'raw' ? rawView(target, admission!) : undefined;
    if (view && 'refused' in view) return refuseUpgrade(socket, 403, 'events_not_allowed', view.refused);
    if (socket instanceof Socket) socket.setKeepAlive(true, deps.tcpKeepaliveDelayMs);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws now destroys the socket on an error itself (its own listener): ours would only cost the socket an array
      // of two 'error' listeners for as long as it lives.
      socket.removeListener('error', destroyOnError);
      const client =
        target.kind === 'gateway'
          ? new GatewaySession(ws, context, gatewayContext!, admission, address)
          : new RawClient(ws, context, feeds.sameBot(admission!.bot), target.after, grantOf(admission), address, view);
      clients.add(client);
      counters.connectionsTotal++;
      client.start();
    });
  }

  async function close(): Promise<void> {
    closing = true;
    heartbeat.stop();
    keyRecheck.stop();
    checks.close();
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
      fanOutBacklogBytes: feeds.backlogBytes,
      ...sessionCounters,
      ...callCounters,
    }),
  };
}
