import type { ReadyUser } from '@hookway/protocol';
import { BotDirectory, type QqApi } from '../src/index.ts';

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

  async fetchToken(appid: string, secret: string): Promise<{ token: string; expiresInSec: number }> {
    this.tokenCalls.push(appid);
    await this.hold;
    if (this.failTokens) throw new Error('token service unavailable');
    if (this.secrets.get(appid) !== secret) throw new Error('invalid appid or secret');
    return { token: this.tokenOf(appid), expiresInSec: this.lifetimeSec };
  }

  async fetchSelf(appid: string, token: string): Promise<ReadyUser> {
    this.selfCalls.push(appid);
    if (this.failSelf || this.tokens.get(appid) !== token) throw new Error('/users/@me failed');
    return { id: `user-of-${appid}`, username: `bot ${appid}` };
  }
}

/** The store of learned bots BotDirectory is given (the bus in production), in memory. */
export function learnedBots(initial: readonly Bot[] = []) {
  const bots = new Map(initial.map((b) => [b.appid, b.secret]));
  const store = {
    bots,
    writes: 0,
    failReads: false,
    knownBots: async (): Promise<ReadonlyMap<string, string>> => {
      if (store.failReads) throw new Error('store unavailable');
      return new Map(bots);
    },
    rememberBot: async (appid: string, secret: string) => {
      store.writes++;
      bots.set(appid, secret);
    },
  };
  return store;
}

/** A BotDirectory over the fakes, with a clock the test moves. */
export function directory(options: { configured?: readonly Bot[]; learned?: readonly Bot[]; platform?: readonly Bot[] } = {}) {
  const configured = options.configured ?? [A, B];
  const api = new FakeQqApi(options.platform ?? [A, B, C]);
  const store = learnedBots(options.learned);
  const tokensSeen: string[] = [];
  let now = 1_750_000_000_000;
  const dir = new BotDirectory(
    new Map(configured.map((b) => [b.appid, b.secret])),
    store,
    api,
    (token) => tokensSeen.push(token),
    () => now,
  );
  return { dir, api, store, tokensSeen, advance: (ms: number) => (now += ms) };
}
