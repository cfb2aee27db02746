import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, expect } from 'vitest';
import type WebSocket from 'ws';
import { BotDirectory, MemoryBotRegistry, type BotActivity, type BotRegistry, type QqApi } from '@hookway/bots';
import { historyLimits, MemoryEventLog, type EventLog, type PublishResult } from '@hookway/bus';
import { FileClientKeyStore, newClientKey, type ClientKeyRecord, type ClientKeyStore } from '@hookway/keys';
import { AppSecret, type ReadyUser } from '@hookway/protocol';
import { createLogger, createRedactor, defaultConfig, type Config } from '@hookway/runtime';
import { GatewayTestClient, lineSink, WsCollector, type FakeBot } from '@hookway/testkit';
import { createGateway, gatewayDeps, MemorySessionStore, type Gateway, type SessionStore } from '../src/index.ts';
import { answerPlainHttp } from '../src/plain-http.ts';

export const SECRET = 'DG5g3B4j9X2KOErG';
export const OTHER_SECRET = 'naOC0ocQE3shWLAfffVLB1rhYPG7';
export const BOT: FakeBot = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

/** Every store the gateway reads or writes, one per concern (as the relay and the gateway service open them). */
export interface GatewayStores {
  readonly events: EventLog;
  readonly sessions: SessionStore;
  readonly bots: BotRegistry;
  readonly keys: ClientKeyStore;
}

/**
 * In-process stores with the given config's history limits, for one gateway or several sharing them; client keys in a
 * file of their own, as the embedded mode keeps them.
 */
export function memoryStores(config: Config = defaultConfig()): GatewayStores {
  return {
    events: new MemoryEventLog(historyLimits(config)),
    sessions: new MemorySessionStore(),
    bots: new MemoryBotRegistry(),
    keys: new FileClientKeyStore(join(mkdtempSync(join(tmpdir(), 'hookway-gateway-keys-')), 'keys.json')),
  };
}

/** The gateway's key store, counting lookups (to show what is not looked up). */
export function counting(store: ClientKeyStore): ClientKeyStore & { lookups: number } {
  const counted = {
    lookups: 0,
    add: (r: Parameters<ClientKeyStore['add']>[0]) => store.add(r),
    list: () => store.list(),
    revoke: (name: string) => store.revoke(name),
    findByHash: (hash: string) => {
      counted.lookups++;
      return store.findByHash(hash);
    },
    close: () => store.close(),
  };
  return counted;
}

let keyCounter = 0;
/** Creates a client key as `hookway keys add` does (for BOT unless said otherwise) and returns the key itself. */
export async function addKey(
  keys: ClientKeyStore,
  options: Partial<Omit<ClientKeyRecord, 'hash'>> = {},
): Promise<{ key: string; name: string }> {
  const { key, hash } = newClientKey();
  const name = options.name ?? `test-key-${++keyCounter}`;
  const added = await keys.add({ appid: BOT.appid, createdAtMs: Date.now(), ...options, name, hash });
  if (!added) throw new Error(`key name ${name} is taken`);
  return { key, name };
}

/**
 * The platform's token service and `/users/@me` as a `QqApi`: one token per appid, as the platform hands out the
 * same one until it expires. (Token expiry and rotation are BotDirectory's, tested beside it in packages/bots.)
 */
export class FakeQqApi implements QqApi {
  private readonly tokens = new Map<string, string>();

  constructor(readonly bots: readonly FakeBot[]) {}

  /** The token the platform currently hands out for the bot, as an SDK would obtain it. */
  tokenOf(appid: string): string {
    let token = this.tokens.get(appid);
    if (token === undefined) this.tokens.set(appid, (token = `tok-${appid}-${this.tokens.size + 1}`));
    return token;
  }

  async fetchToken(appid: string, secret: AppSecret): Promise<{ token: string; expiresInSec: number }> {
    if (!this.bots.some((b) => b.appid === appid && secret.equals(AppSecret.of(b.secret)))) throw new Error('invalid appid or secret');
    return { token: this.tokenOf(appid), expiresInSec: 7200 };
  }

  async fetchSelf(appid: string, token: string): Promise<ReadyUser> {
    const bot = this.bots.find((b) => b.appid === appid);
    if (!bot || this.tokens.get(appid) !== token) throw new Error('token not exist or expire');
    return { id: bot.userId, username: bot.username };
  }
}

export interface RunningGateway {
  readonly gateway: Gateway;
  /** A real node:http server whose `upgrade` event goes to `gateway.handleUpgrade`; plain HTTP gets the gateway's answer. */
  readonly server: Server;
  readonly stores: GatewayStores;
  /** The platform as this gateway's bot directory sees it. */
  readonly api: FakeQqApi;
  readonly logs: string[];
  url(pathAndQuery: string): string;
  /** Puts an event in the log as an accepted webhook would: its top-level id and the bytes as sent. */
  publish(body: string, secret?: string): Promise<PublishResult>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Shared with another gateway, or on Redis; by default new in-process stores the gateway closes itself. */
  readonly stores?: GatewayStores;
  /** The platform: pass one to gateways that stand for replicas of one deployment. */
  readonly api?: FakeQqApi;
  /** The platform over HTTP instead (a FakeQqPlatform through createQqApi), for tests of calls that leave the gateway. */
  readonly qqApi?: QqApi;
  /** What the webhook saw of each bot, for raw clients' hello (the relay passes the ingress's store). */
  readonly activity?: Pick<BotActivity, 'standing'>;
}

/**
 * `createGateway` wired the way the relay and the gateway service wire it (`gatewayDeps` from the settings), on a
 * real HTTP server on an ephemeral port, logging at trace level into memory. Configured bots: BOT, unless
 * `overrides.bots` says otherwise.
 */
export async function startGateway(overrides: Partial<Config> = {}, options: StartOptions = {}): Promise<RunningGateway> {
  const config = defaultConfig({ bots: new Map([[BOT.appid, BOT.secret]]), gatewayCloseGraceMs: 100, ...overrides });
  const { stream, lines: logs } = lineSink();
  const redactor = createRedactor();
  const logger = createLogger({ level: 'trace', redactor, destination: stream });
  const stores = options.stores ?? memoryStores(config);
  const api = options.api ?? new FakeQqApi([BOT]);
  const configured = new Map([...config.bots].map(([appid, secret]) => [appid, AppSecret.of(secret)] as const));
  for (const secret of configured.values()) redactor.remember(secret.reveal());
  const directory = new BotDirectory(configured, stores.bots, options.qqApi ?? api, (token) => redactor.remember(token));
  const { activity } = options;
  const botStanding = activity && ((bot: AppSecret) => activity.standing(bot));
  const gateway = createGateway(
    gatewayDeps({ config, logger }, stores.events, stores.sessions, directory, stores.keys, botStanding ? { botStanding } : {}),
  );
  const server = createServer(answerPlainHttp);
  server.on('upgrade', gateway.handleUpgrade);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    gateway,
    server,
    stores,
    api,
    logs,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    publish: (body, secret = SECRET) =>
      stores.events.publish(AppSecret.of(secret), { eventId: topLevelId(body), body: Buffer.from(body, 'utf8') }),
    close: async () => {
      if (closed) return;
      closed = true;
      await gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (!options.stores) for (const store of Object.values(stores) as { close(): Promise<void> }[]) await store.close();
    },
  };
}

/** The ingress's event id: the payload's top-level `id`, when it is a string. */
function topLevelId(body: string): string | undefined {
  const id = (JSON.parse(body) as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Per-test gateways and clients, torn down after each test: `start` a gateway, `connect` raw clients, `open` and
 * `identify` gateway-mode clients. Call once at the top of a test file.
 */
export function gatewayFixture() {
  const running: RunningGateway[] = [];
  const clients: WsCollector[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const g of running.splice(0)) await g.close();
  });
  const open = async (g: RunningGateway, path = '/websocket') => {
    const c = await GatewayTestClient.connect(g.url(path));
    clients.push(c);
    return c;
  };
  return {
    start: async (...args: Parameters<typeof startGateway>) => {
      const g = await startGateway(...args);
      running.push(g);
      return g;
    },
    connect: async (g: RunningGateway, path: string, options?: WebSocket.ClientOptions) => {
      const c = await WsCollector.connect(g.url(path), options);
      clients.push(c);
      return c;
    },
    open,
    /** A gateway-mode client that identified (by default with BOT's current access token) and got Hello then READY. */
    identified: async (g: RunningGateway, token = accessToken(g), intents?: number, shard?: [number, number]) => {
      const c = await open(g);
      c.identify(token, intents, shard);
      const [hello, ready] = await c.next(2);
      expect(hello!.op).toBe(10);
      expect(ready).toMatchObject({ op: 0, t: 'READY' });
      return c;
    },
  };
}

/** A guild @-message (AT_MESSAGE_CREATE) as the platform sends it; its shard is `(guild_id >> 22) % shards`. */
export function guildEvent(guildId: string, content = 'ping'): string {
  return JSON.stringify({
    op: 0,
    id: `AT_MESSAGE_CREATE:${Math.random().toString(36).slice(2)}`,
    d: {
      author: { id: '1234567890123456789', username: 'abc', bot: false },
      channel_id: '100010',
      guild_id: guildId,
      content,
      id: '08ef',
      seq: 101,
      seq_in_channel: '101',
      timestamp: '2021-05-20T15:14:58+08:00',
    },
    t: 'AT_MESSAGE_CREATE',
  });
}

/** `QQBot <token>` with the access token the platform currently hands out for BOT, as an SDK would send it. */
export const accessToken = (g: RunningGateway, appid = BOT.appid): string => `QQBot ${g.api.tokenOf(appid)}`;

/** The session id from a gateway-mode client's READY (its second frame). */
export const sessionIdOf = (c: GatewayTestClient): string => (c.parsed()[1]!.d as { session_id: string }).session_id;
