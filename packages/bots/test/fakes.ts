import { AppSecret, type GatewayCredential, type ReadyUser } from '@hookway/protocol';
import { BotDirectory, type BotIdentity, type BotRegistry, type QqApi } from '../src/index.ts';

export interface Bot {
  readonly appid: string;
  readonly secret: string;
}

export const A: Bot = { appid: '102000001', secret: 'DG5g3B4j9X2KOErG' };
export const B: Bot = { appid: '102000002', secret: 'naOC0ocQE3shWLAfffVLB1rhYPG7' };
export const C: Bot = { appid: '102000003', secret: 'CcCcCc123456abcdef' };

// As in bot-directory.ts.
export const REFETCH_MIN_INTERVAL_MS = 5000;
export const KNOWN_BOTS_CACHE_MS = 5000;
export const RENEW_BEFORE_EXPIRY_MS = 60_000;
export const LEARNED_MAX = 10_000;
export const TOKEN_STATES_MAX = 10_000;

/**
 * The platform as BotDirectory sees it: it knows the bots it was given, hands out the token the test chose (`issue`
 * picks a new one, as a rotation does), counts every call and fails on demand.
 */
export class FakeQqApi implements QqApi {
  /** The appid of every token request, in order. */
  readonly tokenCalls: string[] = [];
  readonly selfCalls: string[] = [];
  failTokens = false;
  failSelf = false;
  lifetimeSec = 7200;
  /** While set, token requests wait for it: concurrent callers can be observed sharing one request. */
  hold: Promise<void> | undefined;
  private readonly secrets: Map<string, string>;
  private readonly tokens = new Map<string, string>();
  private generation = 0;

  constructor(bots: readonly Bot[]) {
    this.secrets = new Map(bots.map((b) => [b.appid, b.secret]));
    for (const bot of bots) this.issue(bot.appid);
  }

  /** The platform starts handing out a new token for the bot; returns it. */
  issue(appid: string): string {
    const token = `tok-${appid}-${++this.generation}`;
    this.tokens.set(appid, token);
    return token;
  }

  tokenOf(appid: string): string {
    return this.tokens.get(appid)!;
  }

  async fetchToken(appid: string, secret: AppSecret): Promise<{ token: string; expiresInSec: number }> {
    this.tokenCalls.push(appid);
    await this.hold;
    if (this.failTokens) throw new Error('token service unavailable');
    if (this.secrets.get(appid) !== secret.reveal()) throw new Error('invalid appid or secret');
    return { token: this.tokenOf(appid), expiresInSec: this.lifetimeSec };
  }

  async fetchSelf(appid: string, token: string): Promise<ReadyUser> {
    this.selfCalls.push(appid);
    if (this.failSelf || this.tokens.get(appid) !== token) throw new Error('/users/@me failed');
    return { id: `user-of-${appid}`, username: `bot ${appid}` };
  }
}

/** The BotRegistry BotDirectory is given (memory or Redis in production), in memory, counting writes, failing on demand. */
export function learnedBots(initial: readonly Bot[] = []) {
  const bots = new Map(initial.map((b) => [b.appid, b.secret]));
  const store = {
    bots,
    writes: 0,
    failReads: false,
    all: async (): Promise<ReadonlyMap<string, AppSecret>> => {
      if (store.failReads) throw new Error('store unavailable');
      return new Map([...bots].map(([appid, secret]) => [appid, AppSecret.of(secret)]));
    },
    remember: async (appid: string, secret: AppSecret) => {
      store.writes++;
      bots.set(appid, secret.reveal());
    },
    close: async () => {},
  } satisfies BotRegistry & Record<string, unknown>;
  return store;
}

/** An identity as plain data, so tests compare secrets by value (AppSecret objects hide theirs from equality). */
const plain = (identity: BotIdentity | undefined) => identity && { appid: identity.appid, secret: identity.secret.reveal() };

/**
 * A BotDirectory over the fakes, with a clock the test moves. `dir` speaks plain strings (secrets in, secrets out)
 * so the tables of cases stay readable; `real` is the directory itself.
 */
export function directory(options: { configured?: readonly Bot[]; learned?: readonly Bot[]; platform?: readonly Bot[] } = {}) {
  const configured = options.configured ?? [A, B];
  const api = new FakeQqApi(options.platform ?? [A, B, C]);
  const store = learnedBots(options.learned);
  const tokensSeen: string[] = [];
  let now = 1_750_000_000_000;
  const real = new BotDirectory(
    new Map(configured.map((b) => [b.appid, AppSecret.of(b.secret)])),
    store,
    api,
    (token) => tokensSeen.push(token),
    () => now,
  );
  const dir = {
    learn: (appid: string, secret: string) => real.learn(appid, AppSecret.of(secret)),
    bots: async () => new Map([...(await real.bots())].map(([appid, secret]) => [appid, secret.reveal()])),
    authenticate: async (credential: GatewayCredential) => plain(await real.authenticate(credential)),
    appidOf: (secret: string) => real.appidOf(AppSecret.of(secret)),
    configuredSecret: (appid: string) => real.configuredSecret(appid)?.reveal(),
    tokenForSecret: (appid: string, secret: string) => real.tokenForSecret(appid, AppSecret.of(secret)),
    tokenAfterRejection: (appid: string, secret: string, rejected: string) =>
      real.tokenAfterRejection(appid, AppSecret.of(secret), rejected),
    user: (identity: { appid: string | undefined; secret: string }) =>
      real.user({ appid: identity.appid, secret: AppSecret.of(identity.secret) }),
  };
  return { dir, real, api, store, tokensSeen, advance: (ms: number) => (now += ms) };
}
