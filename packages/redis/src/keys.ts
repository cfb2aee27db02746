import type { AppSecret } from '@hookway/protocol';

/**
 * Every Redis key and channel Hookway uses, built in this one module (documented in docs/redis.md; a test fails
 * when a builder is missing there).
 *
 * Per-bot keys carry the secret in a `{…}` hash tag so that, on Redis Cluster, all of a bot's keys share a slot
 * and one Lua script may touch them together. The live channel is exactly `qq:<secret>`, as the design card says;
 * on a Cluster (sharded pub/sub) it is `qq:{<secret>}`, whose hash tag puts it in the slot of the bot's keys, so
 * the publish script may SPUBLISH it and the message stays on that one shard.
 * This is one of the few places an AppSecret is revealed: Redis is a trusted backend.
 */
export const redisKeys = {
  /** Pub/sub channel with every accepted event of the bot: `<header JSON>\n<raw body>`. */
  channel: (bot: AppSecret) => `qq:${bot.reveal()}`,
  /** The same channel on a Redis Cluster (SSUBSCRIBE/SPUBLISH): hash-tagged into the bot's slot. */
  shardChannel: (bot: AppSecret) => `qq:{${bot.reveal()}}`,
  /** Hash: epoch, seq (last assigned), bytes (retained body bytes), dseq (last delivered seq). */
  meta: (bot: AppSecret) => `qq:{${bot.reveal()}}:meta`,
  /** Stream: the bounded history; entry id `<seq>-0`, fields b (body), t (accepted at, ms), i (event id). */
  stream: (bot: AppSecret) => `qq:{${bot.reveal()}}:stream`,
  /** String `epoch|seq|dedupUntilMs` per event id: retry de-duplication and the `after` cursor lookup. */
  eventId: (bot: AppSecret, eventId: string) => `qq:{${bot.reveal()}}:id:${eventId}`,
  /** Hash: what the webhook saw of the bot (v validations, va/ea last validation/event at ms, et event type), for raw clients' hello. */
  activity: (bot: AppSecret) => `qq:{${bot.reveal()}}:activity`,
  /** String: one gateway session (JSON), so that a Resume can land on any replica. */
  session: (sessionId: string) => `hookway:session:${sessionId}`,
  /** Hash appid → AppSecret, learned from verified webhooks (X-Bot-Appid) for gateway-mode token checks. */
  bots: () => 'hookway:bots',
  /** Hash SHA-256 of a client key → its record (JSON: name, appid, events, expiry); never the key itself. */
  clientKeys: () => 'hookway:client-keys',
  /**
   * Pub/sub channel of one `hookway check` run: its signed test event, for the check's own socket only. The nonce is
   * the check's random marker (22–64 of A-Z a-z 0-9 _ -), not a secret: the event must still be signed by a bot.
   */
  checkChannel: (nonce: string) => `hookway:check:${nonce}`,
  /** A gateway's own probe channel, used to prove its subscriber connection still receives messages. */
  probeChannel: (nodeId: string) => `hookway:probe:${nodeId}`,
  /**
   * On a Cluster, one probe channel per master (sharded pub/sub stays in its shard): the `{<tag>}` hash tag is
   * chosen so that the channel falls in a slot that master owns.
   */
  shardProbeChannel: (nodeId: string, tag: number) => `hookway:probe:${nodeId}:{${tag}}`,
  /**
   * String (JSON, with an expiry): one replica's latest status report, for the status page. Tagged `{replicas}` like
   * the index, so that one MULTI writes both and one MGET reads them all on a Redis Cluster (one slot).
   */
  replicaReport: (replicaId: string) => `hookway:{replicas}:${replicaId}`,
  /** Sorted set: replica ids scored by when their report expires (an index, so readers need no SCAN). */
  replicas: () => 'hookway:{replicas}',
} as const;

/** How long a bot's numbering (epoch and seq) outlives its last event. Longer than any history retention. */
export const META_TTL_MS = 30 * 24 * 3600 * 1000;
