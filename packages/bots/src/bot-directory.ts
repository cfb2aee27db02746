import { timingSafeEqual } from 'node:crypto';
import type { AppSecret, GatewayCredential, ReadyUser } from '@hookway/protocol';
import type { BotRegistry } from './bot-registry.ts';

/** The two platform calls gateway mode needs, behind a small interface so tests can point it at a fake. */
export interface QqApi {
  fetchToken(appid: string, secret: AppSecret): Promise<{ token: string; expiresInSec: number }>;
  fetchSelf(appid: string, token: string): Promise<ReadyUser>;
}

export function createQqApi(options: { tokenUrl: string; apiBase: string; timeoutMs?: number }): QqApi {
  const timeout = () => AbortSignal.timeout(options.timeoutMs ?? 5000);
  return {
    async fetchToken(appid, secret) {
      const res = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // The one request the AppSecret is sent in: to the platform's own token service.
        body: JSON.stringify({ appId: appid, clientSecret: secret.reveal() }),
        signal: timeout(),
      });
      const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
      if (!res.ok || typeof body.access_token !== 'string' || body.access_token === '') {
        throw new Error(`token request for appid ${appid} failed with HTTP ${res.status}`);
      }
      return { token: body.access_token, expiresInSec: Number(body.expires_in ?? 7200) || 7200 };
    },
    async fetchSelf(appid, token) {
      const res = await fetch(`${options.apiBase}/users/@me`, {
        headers: { authorization: `QQBot ${token}`, 'x-union-appid': appid },
        signal: timeout(),
      });
      const body = (await res.json().catch(() => ({}))) as { id?: unknown; username?: unknown };
      if (!res.ok || typeof body.id !== 'string') throw new Error(`/users/@me for appid ${appid} failed with HTTP ${res.status}`);
      return { id: body.id, username: typeof body.username === 'string' ? body.username : 'bot' };
    },
  };
}

export interface BotIdentity {
  readonly appid: string | undefined;
  readonly secret: AppSecret;
}

interface TokenState {
  current?: { token: string; expiresAtMs: number };
  previous?: { token: string; expiresAtMs: number };
  fetchedAtMs: number;
  inflight?: Promise<void>;
  /** When the platform last refused our current token and we asked for a new one. */
  rejectedAtMs?: number;
}

/** The platform hands out a new token only in the old one's last 60 s; the old one stays valid until it expires. */
const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** A token we do not recognise may be brand new: look again, but not more often than this per bot. */
const REFETCH_MIN_INTERVAL_MS = 5000;
const KNOWN_BOTS_CACHE_MS = 5000;
/** Learned bots are real ones (each verified with the platform), so this only guards against surprises. */
const LEARNED_MAX = 10_000;
const TOKEN_STATES_MAX = 10_000;

/**
 * Who a gateway-mode client is. A client proves it may receive a bot's events with the bot's AppSecret (in the URL,
 * or as the token of a legacy `Bot <appid>.<token>` credential) or with an access token that is currently valid
 * for that bot — checked by comparing it with the token Hookway itself obtains for the bot.
 */
export class BotDirectory {
  private readonly tokens = new Map<string, TokenState>();
  private readonly users = new Map<string, ReadyUser>();
  private known: { bots: ReadonlyMap<string, AppSecret>; atMs: number } | undefined;

  constructor(
    private readonly configured: ReadonlyMap<string, AppSecret>,
    private readonly registry: BotRegistry,
    private readonly api: QqApi,
    private readonly onToken: (token: string) => void = () => {},
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * The AppSecret of a bot configured with BOTS or BOTS_FILE (never a learned one): how the secretless webhook
   * `POST /webhook` picks its bot from X-Bot-Appid. Synchronous and without I/O, so it is cheap before authentication.
   */
  configuredSecret(appid: string): AppSecret | undefined {
    return this.configured.get(appid);
  }

  /** Configured bots win over learned ones. */
  async bots(): Promise<ReadonlyMap<string, AppSecret>> {
    if (!this.known || this.nowMs() - this.known.atMs > KNOWN_BOTS_CACHE_MS) {
      const learned = await this.registry.all().catch(() => new Map<string, AppSecret>());
      this.known = { bots: new Map([...learned, ...this.configured]), atMs: this.nowMs() };
    }
    return this.known.bots;
  }

  /**
   * Records appid → secret from a verified webhook's X-Bot-Appid. The header is not signed and a verified webhook
   * only proves the sender knows *some* secret, so the pair is kept only if the platform issues a token for it.
   * Configured bots are never replaced. Resolves true when the pair is (now) known.
   */
  async learn(appid: string, secret: AppSecret): Promise<boolean> {
    const configured = this.configured.get(appid);
    if (configured) return configured.equals(secret);
    const bots = await this.bots();
    if (bots.get(appid)?.equals(secret)) return true;
    if (bots.size >= LEARNED_MAX) return false;
    try {
      await this.refresh(appid, secret, true);
    } catch {
      return false;
    }
    await this.registry.remember(appid, secret);
    this.known = undefined;
    return true;
  }

  async appidOf(secret: AppSecret): Promise<string | undefined> {
    for (const [appid, s] of await this.bots()) if (s.equals(secret)) return appid;
    return undefined;
  }

  async authenticate(credential: GatewayCredential): Promise<BotIdentity | undefined> {
    const bots = await this.bots();
    if (credential.kind === 'bot_token') {
      const secret = bots.get(credential.appid);
      if (!secret) return undefined;
      if (equal(credential.token, secret.reveal()) || (await this.isValidToken(credential.appid, secret, credential.token))) {
        return { appid: credential.appid, secret };
      }
      return undefined;
    }
    // Cached tokens first: a forged token must not make Hookway ask the platform about every bot.
    for (const [appid, secret] of bots) {
      const state = this.tokens.get(tokenKey(appid, secret));
      if (state && this.matches(state, credential.token)) return { appid, secret };
    }
    for (const [appid, secret] of bots) {
      if (await this.isValidToken(appid, secret, credential.token)) return { appid, secret };
    }
    return undefined;
  }

  /** A current access token for `appid`, if `secret` really is its AppSecret. */
  async tokenForSecret(appid: string, secret: AppSecret): Promise<string | undefined> {
    const known = (await this.bots()).get(appid);
    if (!known?.equals(secret)) return undefined;
    return this.tokenFor(appid, secret);
  }

  /**
   * The platform refused `rejected` as expired or unknown (401, code 11244): a new token if one can be had now, else
   * undefined. Asks the platform again only when `rejected` is still the cached one, at most once per
   * REFETCH_MIN_INTERVAL_MS per bot.
   */
  async tokenAfterRejection(appid: string, secret: AppSecret, rejected: string): Promise<string | undefined> {
    const key = tokenKey(appid, secret);
    const state = this.tokens.get(key);
    if (state?.current && !equal(state.current.token, rejected)) return state.current.token;
    if (state?.rejectedAtMs !== undefined && this.nowMs() - state.rejectedAtMs < REFETCH_MIN_INTERVAL_MS) return undefined;
    if (state) state.rejectedAtMs = this.nowMs();
    try {
      await this.refresh(appid, secret, true);
    } catch {
      return undefined;
    }
    const token = this.tokens.get(key)?.current?.token;
    return token !== undefined && !equal(token, rejected) ? token : undefined;
  }

  /** The bot's own user for READY; a plausible stand-in when the platform cannot be asked. */
  async user(identity: BotIdentity): Promise<ReadyUser> {
    const { appid } = identity;
    if (!appid) return { id: '0', username: 'qqbot' };
    const cached = this.users.get(appid);
    if (cached) return cached;
    try {
      const user = await this.api.fetchSelf(appid, await this.tokenFor(appid, identity.secret));
      this.users.set(appid, user);
      return user;
    } catch {
      return { id: appid, username: 'qqbot' };
    }
  }

  private async isValidToken(appid: string, secret: AppSecret, token: string): Promise<boolean> {
    const state = this.tokens.get(tokenKey(appid, secret));
    if (state && this.matches(state, token)) return true;
    if (state && this.nowMs() - state.fetchedAtMs < REFETCH_MIN_INTERVAL_MS) return false;
    try {
      await this.refresh(appid, secret, true);
    } catch {
      return false;
    }
    return this.matches(this.tokens.get(tokenKey(appid, secret))!, token);
  }

  private matches(state: TokenState, token: string): boolean {
    const now = this.nowMs();
    return [state.current, state.previous].some((t) => t !== undefined && t.expiresAtMs > now && equal(t.token, token));
  }

  private async tokenFor(appid: string, secret: AppSecret): Promise<string> {
    const state = this.tokens.get(tokenKey(appid, secret));
    if (!state?.current || state.current.expiresAtMs - RENEW_BEFORE_EXPIRY_MS <= this.nowMs()) await this.refresh(appid, secret, false);
    return this.tokens.get(tokenKey(appid, secret))!.current!.token;
  }

  private async refresh(appid: string, secret: AppSecret, force: boolean): Promise<void> {
    const key = tokenKey(appid, secret);
    let state = this.tokens.get(key);
    if (!state) {
      state = { fetchedAtMs: 0 };
      this.tokens.set(key, state);
      // Pairs that never got a token (made-up ones) must not accumulate.
      if (this.tokens.size > TOKEN_STATES_MAX) {
        for (const [k, v] of this.tokens) {
          if (!v.current && !v.inflight) {
            this.tokens.delete(k);
            break;
          }
        }
      }
    }
    if (state.inflight) return state.inflight;
    if (!force && state.current && state.current.expiresAtMs - RENEW_BEFORE_EXPIRY_MS > this.nowMs()) return;
    const current = state;
    current.inflight = (async () => {
      try {
        const { token, expiresInSec } = await this.api.fetchToken(appid, secret);
        this.onToken(token);
        current.fetchedAtMs = this.nowMs();
        if (current.current?.token !== token) {
          current.previous = current.current;
          current.current = { token, expiresAtMs: this.nowMs() + expiresInSec * 1000 };
        }
      } finally {
        current.fetchedAtMs = Math.max(current.fetchedAtMs, this.nowMs());
        current.inflight = undefined;
      }
    })();
    return current.inflight;
  }
}

/** Tokens are cached per appid *and* secret: a wrong secret for a real appid never reaches its token. */
function tokenKey(appid: string, secret: AppSecret): string {
  // Kept in this process's memory only, like the secret itself.
  return `${appid}:${secret.reveal()}`;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
