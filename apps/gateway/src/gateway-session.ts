import { randomUUID } from 'node:crypto';
import type { Bus, BusEvent, StreamPosition } from '@hookway/bus';
import {
  dispatchFrame,
  GatewayClose,
  HEARTBEAT_ACK_FRAME,
  helloFrame,
  intentOf,
  INVALID_SESSION_FRAME,
  parseGatewayToken,
  readyFrame,
  RECONNECT_FRAME,
  resumedFrame,
  secretFingerprint,
  shardOf,
  type CloseCodeInfo,
} from '@hookway/protocol';
import type { Logger } from '@hookway/runtime';
import type WebSocket from 'ws';
import type { BotFeeds } from './bot-feeds.ts';
import type { BotDirectory, BotIdentity } from '@hookway/bots';
import { envelopeFacts } from './envelope-cache.ts';
import { StreamClient, type StreamClientCounters } from './stream-client.ts';

export interface GatewaySessionOptions {
  readonly maxBufferedBytes: number;
  readonly heartbeatIntervalMs: number;
  readonly identifyTimeoutMs: number;
  readonly closeGraceMs: number;
  readonly sessionTtlMs: number;
  readonly intents: 'strict' | 'all';
}

export interface GatewaySessionDeps {
  readonly bus: Pick<Bus, 'head' | 'history' | 'deliveredPosition' | 'saveSession' | 'loadSession'>;
  readonly feeds: BotFeeds;
  readonly directory: BotDirectory;
  readonly logger: Logger;
  readonly counters: StreamClientCounters & { authFailures: number; resumes: number; invalidSessions: number };
}

/** What a session is, stored so any replica can resume it: `s = bus seq − base + 1` within `epoch`. */
interface StoredSession {
  readonly secret: string;
  readonly epoch: string;
  readonly base: number;
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
  private session: (StoredSession & { id: string }) | undefined;
  private handshaking = false;
  /** A heartbeat that came during the handshake: answered right after READY/RESUMED, which must come first. */
  private ackOwed = false;
  private lastS = 1;
  private lastPersistMs = 0;
  /** The bot whose feed this connection joined (even if the handshake then failed), to leave it on close. */
  joinedBot: string | undefined;
  private readonly identifyTimer: NodeJS.Timeout | undefined;

  constructor(
    ws: WebSocket,
    /** The AppSecret from `/websocket?secret=S`, which identifies the bot without a token check. */
    private readonly urlSecret: string | undefined,
    private readonly settings: GatewaySessionOptions,
    private readonly deps: GatewaySessionDeps,
  ) {
    super(ws, { maxBufferedBytes: settings.maxBufferedBytes }, deps.counters);
    this.sendControl(helloFrame(settings.heartbeatIntervalMs));
    // Off by default: qq-official-bot keeps an idle second socket, and closing it tears down its live session.
    if (settings.identifyTimeoutMs > 0) {
      this.identifyTimer = setTimeout(() => {
        if (!this.session) this.closeAfterGrace(GatewayClose.NotAuthenticated);
      }, settings.identifyTimeoutMs);
      this.identifyTimer.unref();
    }
  }

  get sessionBot(): string | undefined {
    return this.session?.secret;
  }

  /** One text frame from the client. Returns false for anything that is not a gateway payload (counted by the caller). */
  onFrame(text: string): boolean {
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
    this.runHandshake(work).catch((err: unknown) => this.deps.logger.error({ err }, 'gateway handshake cleanup failed'));
  }

  private async runHandshake(work: () => Promise<void>): Promise<void> {
    this.handshaking = true;
    try {
      await work();
    } catch (err) {
      this.deps.logger.error({ err }, 'gateway handshake failed');
      this.invalidate(GatewayClose.InvalidSession, 'handshake failed');
    } finally {
      this.handshaking = false;
      if (this.ackOwed) {
        this.ackOwed = false;
        this.sendControl(HEARTBEAT_ACK_FRAME);
      }
    }
  }

  private async authenticate(token: unknown): Promise<BotIdentity | undefined> {
    if (this.urlSecret) return { secret: this.urlSecret, appid: await this.deps.directory.appidOf(this.urlSecret) };
    const credential = parseGatewayToken(token);
    return credential ? this.deps.directory.authenticate(credential) : undefined;
  }

  private async identify(d: Record<string, unknown>): Promise<void> {
    const identity = await this.authenticate(d.token);
    if (!identity) return this.refuse('identify');
    const intents = Number.isInteger(d.intents) && (d.intents as number) >= 0 ? (d.intents as number) : 0;
    const shard = validShard(d.shard);
    const user = await this.deps.directory.user(identity);
    this.joinedBot = identity.secret;
    const feed = await this.deps.feeds.join(identity.secret, this);
    // Start after what some client already received, so a fresh session still gets what nobody has seen.
    const head = await this.deps.bus.head(identity.secret);
    const delivered = await this.deps.bus.deliveredPosition(identity.secret);
    // Nothing delivered yet in this numbering: everything retained is unseen (as raw mode hands it out too).
    const base: StreamPosition = delivered && delivered.epoch === head.epoch ? delivered : { epoch: head.epoch, seq: 0 };
    const slice = await this.deps.bus.history(identity.secret, base);
    if (this.isClosed()) return;
    this.session = { id: randomUUID(), secret: identity.secret, epoch: base.epoch, base: base.seq, intents, shard };
    await this.persist();
    clearTimeout(this.identifyTimer);
    this.sendControl(readyFrame({ sessionId: this.session.id, user, shard }));
    this.log(identity, 'gateway session ready', { intents, shard, mode: this.urlSecret ? 'secret' : 'token' });
    const lastReplayed = await this.replayThenGoLive(slice);
    if (lastReplayed) feed.noteDelivered(lastReplayed);
  }

  private async resume(d: Record<string, unknown>): Promise<void> {
    const stored = typeof d.session_id === 'string' ? await this.deps.bus.loadSession(d.session_id) : undefined;
    const session = stored ? (JSON.parse(stored) as StoredSession) : undefined;
    const identity = await this.authenticate(d.token);
    if (!identity) return this.refuse('resume');
    const seq = Number.isInteger(d.seq) && (d.seq as number) >= 1 ? (d.seq as number) : 1;
    if (!session || session.secret !== identity.secret) {
      this.deps.counters.invalidSessions++;
      return this.invalidate(GatewayClose.InvalidSession, 'unknown session');
    }
    this.joinedBot = session.secret;
    const feed = await this.deps.feeds.join(session.secret, this);
    let epoch = session.epoch;
    if (epoch === '' && session.base === 0) {
      // Identified before the bot's first event: its numbering is the one that began after that.
      epoch = (await this.deps.bus.head(session.secret)).epoch;
    }
    const slice = await this.deps.bus.history(session.secret, { epoch, seq: session.base + seq - 1 });
    if (!slice.complete || slice.head.epoch !== epoch) {
      this.deps.counters.invalidSessions++;
      return this.invalidate(GatewayClose.InvalidSession, 'events after seq are no longer held');
    }
    if (this.isClosed()) return;
    this.session = { ...session, epoch, id: d.session_id as string };
    this.lastS = seq;
    clearTimeout(this.identifyTimer);
    await this.persist();
    this.deps.counters.resumes++;
    const lastReplayed = await this.replayThenGoLive(slice);
    if (lastReplayed) feed.noteDelivered(lastReplayed);
    this.sendControl(resumedFrame(this.lastS));
    this.log(identity, 'gateway session resumed', { replayed: slice.events.length });
  }

  protected render(event: BusEvent): Buffer | undefined {
    let session = this.session;
    if (!session) return undefined;
    if (session.epoch === '' && session.base === 0) {
      // Identified before the bot's first event ever: the numbering starts now, with this event's epoch.
      session = this.session = { ...session, epoch: event.epoch };
      void this.persist().catch(() => undefined);
    }
    if (event.epoch !== session.epoch) {
      // Redis lost its numbering: this session's `s` can no longer be mapped, so it cannot continue.
      queueMicrotask(() => this.lostEvents());
      return undefined;
    }
    const facts = envelopeFacts(event);
    if (!facts.t || !this.wants(session, facts.t, facts.guildId)) return undefined;
    const s = event.seq - session.base + 1;
    this.lastS = s;
    return dispatchFrame(s, facts.t, facts.id, facts.rawD);
  }

  private wants(session: StoredSession, t: string, guildId: unknown): boolean {
    if (shardOf(guildId, session.shard[1]) !== session.shard[0]) return false;
    if (this.settings.intents === 'all') return true;
    const bit = intentOf(t);
    // Types missing from the intent table (new ones) are passed on rather than silently dropped.
    return bit === undefined || (session.intents & bit) !== 0;
  }

  lostEvents(): void {
    this.deps.counters.invalidSessions++;
    this.invalidate(GatewayClose.InvalidSession, 'events were lost');
  }

  /** Shutdown: op 7, then close 4009 after the grace, so the client resumes elsewhere. */
  reconnectElsewhere(): void {
    if (this.isClosed()) return;
    this.sendControl(RECONNECT_FRAME);
    this.closeAfterGrace(GatewayClose.Reconnect);
  }

  private refuse(what: string): void {
    this.deps.counters.authFailures++;
    this.deps.logger.warn({ what, mode: this.urlSecret ? 'secret' : 'token' }, 'gateway authentication failed');
    this.invalidate(GatewayClose.AuthenticationFailed, 'authentication failed');
  }

  /** op 9, then the close code that makes each SDK do the right thing (4006: identify; 4004: new token). */
  private invalidate(close: CloseCodeInfo, why: string): void {
    if (this.isClosed()) return;
    this.deps.logger.debug({ why, code: close.code }, 'gateway session invalidated');
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
    void this.persist().catch(() => undefined);
  }

  /** Keeps the session resumable for its TTL from now. */
  async persist(): Promise<void> {
    if (!this.session) return;
    this.lastPersistMs = Date.now();
    const { id, ...stored } = this.session;
    await this.deps.bus.saveSession(id, JSON.stringify(stored), this.settings.sessionTtlMs);
  }

  dispose(): void {
    clearTimeout(this.identifyTimer);
  }

  private log(identity: BotIdentity, message: string, extra: object): void {
    this.deps.logger.info({ bot: secretFingerprint(identity.secret), appid: identity.appid, ...extra }, message);
  }
}

function validShard(raw: unknown): readonly [number, number] {
  if (Array.isArray(raw) && raw.length === 2 && raw.every((n) => Number.isInteger(n))) {
    const [id, count] = raw as [number, number];
    if (count >= 1 && count <= 1024 && id >= 0 && id < count) return [id, count];
  }
  return [0, 1];
}
