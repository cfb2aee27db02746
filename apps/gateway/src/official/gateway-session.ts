import { randomUUID } from 'node:crypto';
import { continuesWithoutGap, type BusEvent, type StreamPosition } from '@hookway/bus';
import { freshClientStart } from '../shared/bot-feeds.ts';
import {
  AppSecret,
  clientKeyInToken,
  GatewayClose,
  HEARTBEAT_ACK_FRAME,
  helloFrame,
  intentName,
  intentOf,
  INVALID_SESSION_FRAME,
  parseGatewayToken,
  readyFrame,
  RECONNECT_FRAME,
  resumedFrame,
  shardOf,
  type CloseCodeInfo,
} from '@hookway/protocol';
import type WebSocket from 'ws';
import type { BotDirectory, BotIdentity } from '@hookway/bots';
import type { AuthFailureThrottle } from '@hookway/runtime';
import type { ClientKeys, KeyGrant } from '../shared/client-keys.ts';
import { StreamClient, type StreamClientContext } from '../shared/stream-client.ts';
import { envelopeFacts } from '../shared/envelope-cache.ts';
import type { EventFrames, PreparedFrame } from '../shared/frames.ts';
import type { SessionStore } from './session-store.ts';

/** The protocol's timings and rules, from the settings. */
export interface GatewaySessionOptions {
  readonly heartbeatIntervalMs: number;
  readonly identifyTimeoutMs: number;
  readonly closeGraceMs: number;
  readonly sessionTtlMs: number;
  readonly intents: 'strict' | 'all';
}

/** Counted by gateway sessions, under the names `/healthz` shows. */
export type GatewaySessionCounters = {
  gatewaySessions: number;
  gatewayAuthFailures: number;
  gatewayResumes: number;
  gatewayInvalidSessions: number;
};

/** What gateway mode adds to every client's context: who bots are, where sessions live, its own counters. */
export interface GatewayModeContext {
  readonly directory: BotDirectory;
  /** Client keys given as the Identify or Resume token. */
  readonly keys: ClientKeys;
  /** Failed token and key authentications count here, per client address. */
  readonly authFailures: AuthFailureThrottle;
  readonly sessions: SessionStore;
  readonly counters: GatewaySessionCounters;
  readonly options: GatewaySessionOptions;
}

/**
 * Who the upgrade already proved the client to be — `/websocket?secret=S` (the bot, by its AppSecret) or
 * `/websocket?key=K` (a client key) — so any Identify token is accepted, as on the original relay.
 */
export type Admission =
  { readonly via: 'secret'; readonly bot: AppSecret } | { readonly via: 'key'; readonly bot: AppSecret; readonly grant: KeyGrant };

/** Who a handshake's token (or the upgrade) says the client is. */
type Authenticated = BotIdentity & { readonly grant?: KeyGrant };
/** Not authenticated; a guess (forged token, wrong key) counts against the address, a genuine key of an unknown bot does not. */
type Refused = { readonly refused: true; readonly countsAsFailure: boolean };
const REFUSED: Refused = { refused: true, countsAsFailure: true };

/**
 * What a session is, stored so any replica can resume it: `s = bus seq − base + 1` within `epoch`. Sessions identified
 * now all have base 0 (s = bus seq + 1, the same for every session of a bot, so one dispatch frame serves them all)
 * and `start`, the position they began from; records written before the numbering was shared carry their own base
 * (the position they began from) and no `start`, and keep their numbering when resumed.
 */
interface StoredSession {
  /** The raw AppSecret (sessions live in the trusted store, like the event log's keys). */
  readonly secret: string;
  readonly epoch: string;
  readonly base: number;
  /** The bus position the session began from: a Resume with the READY's s (nothing received yet) continues from here. */
  readonly start?: number;
  readonly intents: number;
  readonly shard: readonly [number, number];
}

/**
 * One connection speaking the official gateway protocol (`/websocket`). Hello goes out at once; Identify and
 * Resume are accepted whenever they arrive (botgo sends them before reading Hello). READY is always the very next
 * frame after Identify; events wait in the catch-up buffer until then.
 */
export class GatewaySession extends StreamClient {
  protected readonly slowConsumerClose: CloseCodeInfo = GatewayClose.Reconnect;
  readonly clientMode = 'gateway';
  private session: (StoredSession & { id: string; bot: AppSecret }) | undefined;
  private handshaking = false;
  /** A heartbeat that came during the handshake: answered right after READY/RESUMED, which must come first. */
  private ackOwed = false;
  private lastS = 1;
  private lastPersistMs = 0;
  private identifyTimer: NodeJS.Timeout | undefined;
  /** Intents this session lacks that an arriving event needed: each is warned about once. */
  private readonly warnedIntents = new Set<number>();
  private readonly settings: GatewaySessionOptions;

  constructor(
    ws: WebSocket,
    context: StreamClientContext,
    private readonly mode: GatewayModeContext,
    private readonly admission: Admission | undefined,
    address: string,
  ) {
    super(ws, context, address);
    this.settings = mode.options;
    if (admission?.via === 'key') this.keyGrant = admission.grant;
  }

  /** Hello goes out at once; Identify or Resume may follow whenever the client likes. */
  protected begin(): void {
    this.mode.counters.gatewaySessions++;
    this.sendControl(helloFrame(this.settings.heartbeatIntervalMs));
    // Off by default: qq-official-bot keeps an idle second socket, and closing it tears down its live session.
    if (this.settings.identifyTimeoutMs > 0) {
      this.identifyTimer = setTimeout(() => {
        if (!this.session) this.closeAfterGrace(GatewayClose.NotAuthenticated);
      }, this.settings.identifyTimeoutMs);
      this.identifyTimer.unref();
    }
  }

  /** One text frame from the client. Returns false for anything that is not a gateway payload. */
  protected onText(text: string): boolean {
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(text) as typeof payload;
    } catch {
      return false;
    }
    if (typeof payload !== 'object' || payload === null) return false;
    const d = (typeof payload.d === 'object' && payload.d !== null ? payload.d : {}) as Record<string, unknown>;
    switch (payload.op) {
      case 1:
        if (this.handshaking) this.ackOwed = true;
        else this.sendControl(HEARTBEAT_ACK_FRAME);
        this.keepResumable();
        return true;
      case 2:
        this.startHandshake(() => this.identify(d));
        return true;
      case 6:
        this.startHandshake(() => this.resume(d));
        return true;
      default:
        return false;
    }
  }

  /** Identify or Resume: one handshake per connection, as on the platform; a failed one invalidates the session. */
  private startHandshake(work: () => Promise<void>): void {
    if (this.handshaking || this.session) return;
    this.runHandshake(work).catch((err: unknown) => this.context.logger.error({ err }, 'gateway handshake cleanup failed'));
  }

  private async runHandshake(work: () => Promise<void>): Promise<void> {
    this.handshaking = true;
    try {
      await work();
    } catch (err) {
      this.context.logger.error({ err }, 'gateway handshake failed');
      this.invalidate(GatewayClose.InvalidSession, 'handshake failed');
    } finally {
      this.handshaking = false;
      if (this.ackOwed) {
        this.ackOwed = false;
        this.sendControl(HEARTBEAT_ACK_FRAME);
      }
    }
  }

  private async authenticate(token: unknown): Promise<Authenticated | Refused> {
    const { admission } = this;
    if (admission?.via === 'secret') return { secret: admission.bot, appid: await this.mode.directory.appidOf(admission.bot) };
    if (admission?.via === 'key') return { secret: admission.bot, appid: admission.grant.appid, grant: admission.grant };
    // Past the limit of failures, no lookup at all (the upgrade refuses such addresses too; this covers sockets opened before).
    if (this.mode.authFailures.retryAfterSec(this.address) !== undefined) return { refused: true, countsAsFailure: false };
    const key = clientKeyInToken(token);
    if (key !== undefined) {
      const check = await this.mode.keys.check(key);
      if (check.ok) return { secret: check.bot, appid: check.grant.appid, grant: check.grant };
      this.context.logger.warn({ address: this.address, error: check.error, key: check.keyName }, 'client key refused');
      return { refused: true, countsAsFailure: check.countsAsFailure };
    }
    const credential = parseGatewayToken(token);
    return (credential && (await this.mode.directory.authenticate(credential))) ?? REFUSED;
  }

  private async identify(d: Record<string, unknown>): Promise<void> {
    const identity = await this.authenticate(d.token);
    if ('refused' in identity) return this.refuse('identify', identity);
    const intents = Number.isInteger(d.intents) && (d.intents as number) >= 0 ? (d.intents as number) : 0;
    const shard = validShard(d.shard);
    const user = await this.mode.directory.user(identity);
    await this.joinFeed(identity.secret);
    const { events } = this.context;
    // Start after what some client already received, so a fresh session still gets what nobody has seen.
    const { start, slice } = await this.readStart(async () => {
      const head = await events.head(identity.secret);
      const delivered = await this.context.feeds.deliveredPosition(identity.secret);
      const fresh = delivered && delivered.epoch === head.epoch ? freshClientStart(delivered, this.joinedAt!) : undefined;
      // Nothing delivered yet in this numbering, or joined before it began: everything retained is unseen (as raw
      // mode hands it out too).
      const start: StreamPosition = fresh?.epoch === head.epoch ? fresh : { epoch: head.epoch, seq: 0 };
      return { start, slice: await events.history(identity.secret, start) };
    });
    if (this.isClosed()) return;
    this.keyGrant = identity.grant;
    this.session = {
      id: randomUUID(),
      bot: identity.secret,
      secret: identity.secret.reveal(),
      epoch: start.epoch,
      base: 0,
      start: start.seq,
      intents,
      shard,
    };
    await this.persist();
    clearTimeout(this.identifyTimer);
    this.noteConnected(identity.secret, identity.appid);
    this.sendControl(readyFrame({ sessionId: this.session.id, user, shard }));
    this.log(identity, 'gateway session ready', { intents, shard, mode: this.modeName(identity) });
    await this.catchUp(slice);
  }

  private async resume(d: Record<string, unknown>): Promise<void> {
    const stored = typeof d.session_id === 'string' ? await this.mode.sessions.load(d.session_id) : undefined;
    const session = stored ? parseStoredSession(stored) : undefined;
    const identity = await this.authenticate(d.token);
    if ('refused' in identity) return this.refuse('resume', identity);
    const seq = Number.isInteger(d.seq) && (d.seq as number) >= 1 ? (d.seq as number) : 1;
    if (!session || !session.bot.equals(identity.secret)) {
      this.mode.counters.gatewayInvalidSessions++;
      return this.invalidate(GatewayClose.InvalidSession, 'unknown session');
    }
    await this.joinFeed(session.bot);
    const { events } = this.context;
    let epoch = session.epoch;
    if (epoch === '' && session.base === 0) {
      // Identified before the bot's first event: its numbering is the one that began after that.
      epoch = (await events.head(session.bot)).epoch;
    }
    // s = seq − base + 1 ⇒ the last event the client saw is base + s − 1; never before where the session began (READY's s is 1).
    const from = { epoch, seq: Math.max(session.start ?? session.base, session.base + seq - 1) };
    const slice = await events.history(session.bot, from);
    if (!continuesWithoutGap(from, slice.head, slice.events)) {
      this.mode.counters.gatewayInvalidSessions++;
      return this.invalidate(GatewayClose.InvalidSession, 'events after seq are no longer held');
    }
    if (this.isClosed()) return;
    this.keyGrant = identity.grant;
    this.session = { ...session, epoch, id: d.session_id as string };
    this.lastS = seq;
    clearTimeout(this.identifyTimer);
    await this.persist();
    this.mode.counters.gatewayResumes++;
    this.noteConnected(session.bot, identity.appid);
    await this.catchUp(slice);
    this.sendControl(resumedFrame(this.lastS));
    this.log(identity, 'gateway session resumed', { replayed: slice.events.length, mode: this.modeName(identity) });
  }

  /** The dispatch frame, shared by every session of the bot numbered from the same base (all with base 0). */
  protected render(event: BusEvent, frames: EventFrames): PreparedFrame | undefined {
    let session = this.session;
    if (!session) return undefined;
    if (session.epoch === '' && session.base === 0) {
      // Identified before the bot's first event ever: the numbering starts now, with this event's epoch.
      session = this.session = { ...session, epoch: event.epoch };
      this.persist().catch(() => undefined);
    }
    if (event.epoch !== session.epoch) {
      // Redis lost its numbering: this session's `s` can no longer be mapped, so it cannot continue.
      queueMicrotask(() => this.lostEvents());
      return undefined;
    }
    const facts = envelopeFacts(event);
    if (!facts.t || !this.wants(session, facts.t, facts.guildId)) return undefined;
    const frame = frames.dispatch(session.base);
    if (!frame) return undefined;
    this.lastS = event.seq - session.base + 1;
    return frame;
  }

  private wants(session: StoredSession & { bot: AppSecret }, t: string, guildId: unknown): boolean {
    if (shardOf(guildId, session.shard[1]) !== session.shard[0]) return false;
    // A key limited to certain event types: intents can narrow that further, never widen it.
    if (!this.keyAllows(t)) return false;
    if (this.settings.intents === 'all') return true;
    const bit = intentOf(t);
    // Types missing from the intent table (new ones) are passed on rather than silently dropped.
    if (bit === undefined || (session.intents & bit) !== 0) return true;
    this.warnDropped(session, t, bit);
    return false;
  }

  /** SDK defaults often leave an intent off (nonebot: group/C2C): say once, per missing intent, what is dropped. */
  private warnDropped(session: StoredSession & { bot: AppSecret }, t: string, bit: number): void {
    if (this.warnedIntents.has(bit)) return;
    this.warnedIntents.add(bit);
    const intent = intentName(bit) ?? `1<<${Math.log2(bit)}`;
    this.context.logger.warn(
      { bot: session.bot.tag, event: t, intent, intents: session.intents, ...(this.keyGrant ? { key: this.keyGrant.name } : {}) },
      `gateway session dropped ${t}: its Identify intents lack ${intent} (1<<${Math.log2(bit)}); add that intent in the bot's settings, or set GATEWAY_INTENTS=all`,
    );
  }

  lostEvents(): void {
    this.mode.counters.gatewayInvalidSessions++;
    this.invalidate(GatewayClose.InvalidSession, 'events were lost');
  }

  /** Shutdown: op 7, then close 4009 after the grace, so the client resumes elsewhere. */
  shutdown(): void {
    if (this.isClosed()) return;
    this.sendControl(RECONNECT_FRAME);
    this.closeAfterGrace(GatewayClose.Reconnect);
  }

  /** The client key this session was admitted with was revoked or expired: op 9, then 4004 (get a new credential). */
  keyRevoked(): void {
    this.invalidate(GatewayClose.AuthenticationFailed, 'client key revoked or expired');
  }

  private refuse(what: string, outcome: Refused): void {
    this.mode.counters.gatewayAuthFailures++;
    if (outcome.countsAsFailure) this.mode.authFailures.recordFailure(this.address);
    this.context.logger.warn({ what, address: this.address }, 'gateway authentication failed');
    this.invalidate(GatewayClose.AuthenticationFailed, 'authentication failed');
  }

  /** op 9, then the close code that makes each SDK do the right thing (4006: identify; 4004: new token). */
  private invalidate(close: CloseCodeInfo, why: string): void {
    if (this.isClosed()) return;
    this.context.logger.debug({ why, code: close.code }, 'gateway session invalidated');
    this.sendControl(INVALID_SESSION_FRAME);
    this.closeAfterGrace(close);
  }

  private closeAfterGrace(close: CloseCodeInfo): void {
    this.markClosed();
    setTimeout(() => this.ws.close(close.code, close.reason), this.settings.closeGraceMs).unref();
  }

  /** Heartbeats keep a long-lived session resumable (its record's TTL refreshed at most four times per TTL). */
  private keepResumable(): void {
    if (!this.session || Date.now() - this.lastPersistMs < this.settings.sessionTtlMs / 4) return;
    this.persist().catch(() => undefined);
  }

  /** Keeps the session resumable for its TTL from now. */
  private async persist(): Promise<void> {
    if (!this.session) return;
    this.lastPersistMs = Date.now();
    const { id, bot: _bot, ...stored } = this.session;
    await this.mode.sessions.save(id, JSON.stringify(stored), this.settings.sessionTtlMs);
  }

  /** A closed session stays resumable for its TTL from its last moment, on any replica. */
  protected onClosed(code: number): void {
    clearTimeout(this.identifyTimer);
    this.mode.counters.gatewaySessions--;
    if (this.session) this.persist().catch(() => undefined);
    const key = this.keyGrant ? { key: this.keyGrant.name } : {};
    this.context.logger.info({ ...key, code, connections: this.context.clients.size }, 'gateway client disconnected');
  }

  private modeName(identity: Authenticated): 'key' | 'secret' | 'token' {
    return identity.grant ? 'key' : this.admission?.via === 'secret' ? 'secret' : 'token';
  }

  /** Session lines name the key a client came with (never the key or its hash). */
  private log(identity: Authenticated, message: string, extra: object): void {
    const key = identity.grant ? { key: identity.grant.name } : {};
    this.context.logger.info({ bot: identity.secret.tag, appid: identity.appid, ...key, ...extra }, message);
  }
}

function parseStoredSession(stored: string): (StoredSession & { bot: AppSecret }) | undefined {
  const session = JSON.parse(stored) as StoredSession;
  const bot = AppSecret.parse(session.secret);
  return bot ? { ...session, bot } : undefined;
}

function validShard(raw: unknown): readonly [number, number] {
  if (Array.isArray(raw) && raw.length === 2 && raw.every((n) => Number.isInteger(n))) {
    const [id, count] = raw as [number, number];
    if (count >= 1 && count <= 1024 && id >= 0 && id < count) return [id, count];
  }
  return [0, 1];
}
