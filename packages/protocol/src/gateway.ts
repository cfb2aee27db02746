import type { CloseCodeInfo } from './close-codes.ts';

/**
 * The official WebSocket gateway protocol as Hookway speaks it on `/websocket` (qq-protocol.md §3,
 * sdk-clients.md §2). Frames are built as text so that each event's `d` travels byte for byte.
 */

/** Close codes of the platform's gateway, with what real SDKs do on each (sdk-clients.md §2 rule 7). */
export const GatewayClose = {
  /** The token was forged, expired or for another bot: refresh the token, then identify. */
  AuthenticationFailed: { code: 4004, reason: 'authentication failed', reconnect: 'fresh' },
  /** Sent after op 9: the session cannot be resumed; identify again. */
  InvalidSession: { code: 4006, reason: 'invalid session, identify again', reconnect: 'fresh' },
  /** A socket that never identified within GATEWAY_IDENTIFY_TIMEOUT_MS (when that is set). */
  NotAuthenticated: { code: 4003, reason: 'not authenticated', reconnect: 'fresh' },
  /** Sent after op 7 (shutdown, slow reader): reconnect and resume — every SDK resumes on 4009. */
  Reconnect: { code: 4009, reason: 'reconnect and resume', reconnect: 'resume' },
} as const satisfies Record<string, CloseCodeInfo>;

/** What official SDKs expect in Hello; botpy ignores it and beats every 30 s. */
export const GATEWAY_HEARTBEAT_INTERVAL_MS = 41_250;

export const helloFrame = (heartbeatIntervalMs: number) => `{"op":10,"d":{"heartbeat_interval":${heartbeatIntervalMs}}}`;
export const RECONNECT_FRAME = '{"op":7}';
export const INVALID_SESSION_FRAME = '{"op":9,"d":false}';

export interface ReadyUser {
  readonly id: string;
  readonly username: string;
}

export function readyFrame(options: { sessionId: string; user: ReadyUser; shard: readonly [number, number] }): string {
  return JSON.stringify({
    op: 0,
    s: 1,
    t: 'READY',
    d: {
      version: 1,
      session_id: options.sessionId,
      user: { id: options.user.id, username: options.user.username, bot: true },
      shard: options.shard,
    },
  });
}

export const resumedFrame = (s: number) => `{"op":0,"s":${s},"t":"RESUMED","d":""}`;

/** `{"op":0,"s":S,"t":T,"id":ID,"d":<the platform's d, byte for byte>}`. */
export function dispatchFrame(s: number, t: string, id: string | undefined, rawD: Buffer): Buffer {
  const head = `{"op":0,"s":${s},"t":${JSON.stringify(t)}${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"d":`;
  return Buffer.concat([Buffer.from(head), rawD, Buffer.from('}')]);
}

export type GatewayCredential =
  | { readonly kind: 'access_token'; readonly token: string }
  | { readonly kind: 'bot_token'; readonly appid: string; readonly token: string };

/** What every Hookway client key starts with (`hwk_…`; see @hookway/keys). */
export const CLIENT_KEY_PREFIX = 'hwk_';

/**
 * The client key given as a gateway token — bare, or after the `QQBot ` or `Bearer ` an SDK puts before its token —
 * or undefined when the token is no key. Only the prefix is looked at here; whether it is a key is decided on lookup.
 */
export function clientKeyInToken(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 2048) return undefined;
  const value = raw.trim().replace(/^(?:QQBot|Bearer)\s+/, '');
  return value.startsWith(CLIENT_KEY_PREFIX) ? value : undefined;
}

/** `QQBot <access_token>`, the legacy `Bot <appid>.<token>`, or a bare access token (botgo's Resume). */
export function parseGatewayToken(raw: unknown): GatewayCredential | undefined {
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim();
  if (value.length === 0 || value.length > 2048) return undefined;
  const legacy = /^Bot\s+(\d{1,20})\.(\S+)$/.exec(value);
  if (legacy) return { kind: 'bot_token', appid: legacy[1]!, token: legacy[2]! };
  const bearer = /^QQBot\s+(\S+)$/.exec(value);
  if (bearer) return { kind: 'access_token', token: bearer[1]! };
  return /^\S+$/.test(value) && !/^(Bot|QQBot)$/.test(value) ? { kind: 'access_token', token: value } : undefined;
}

/**
 * Which shard gets an event: guild events by `(guild_id >> 22) % num_shards` as the platform documents; group,
 * C2C and anything without a numeric guild_id go to shard 0 (the platform does not document them; every SDK
 * that uses them connects with a single shard).
 */
export function shardOf(guildId: unknown, numShards: number): number {
  if (numShards <= 1 || typeof guildId !== 'string' || !/^\d{1,20}$/.test(guildId)) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(numShards));
}
