/** Gateway intent bits (qq-protocol.md §4). Intents only matter for gateway-mode clients. */
export const Intent = {
  GUILDS: 1 << 0,
  GUILD_MEMBERS: 1 << 1,
  GUILD_MESSAGES: 1 << 9,
  GUILD_MESSAGE_REACTIONS: 1 << 10,
  DIRECT_MESSAGE: 1 << 12,
  OPEN_FORUMS_EVENT: 1 << 18,
  AUDIO_OR_LIVE_CHANNEL_MEMBER: 1 << 19,
  ENTER_AIO: 1 << 23,
  GROUP_MEMBERS: 1 << 24,
  GROUP_AND_C2C_EVENT: 1 << 25,
  INTERACTION: 1 << 26,
  MESSAGE_AUDIT: 1 << 27,
  FORUMS_EVENT: 1 << 28,
  AUDIO_ACTION: 1 << 29,
  PUBLIC_GUILD_MESSAGES: 1 << 30,
} as const;

export type IntentName = keyof typeof Intent;

/** The event types (`t`) each intent subscribes to: the event types Hookway knows by name. */
export const EVENTS_BY_INTENT: Readonly<Record<IntentName, readonly string[]>> = {
  GUILDS: ['GUILD_CREATE', 'GUILD_UPDATE', 'GUILD_DELETE', 'CHANNEL_CREATE', 'CHANNEL_UPDATE', 'CHANNEL_DELETE'],
  GUILD_MEMBERS: ['GUILD_MEMBER_ADD', 'GUILD_MEMBER_UPDATE', 'GUILD_MEMBER_REMOVE'],
  GUILD_MESSAGES: ['MESSAGE_CREATE', 'MESSAGE_DELETE'],
  GUILD_MESSAGE_REACTIONS: ['MESSAGE_REACTION_ADD', 'MESSAGE_REACTION_REMOVE'],
  DIRECT_MESSAGE: ['DIRECT_MESSAGE_CREATE', 'DIRECT_MESSAGE_DELETE'],
  OPEN_FORUMS_EVENT: [
    'OPEN_FORUM_THREAD_CREATE',
    'OPEN_FORUM_THREAD_UPDATE',
    'OPEN_FORUM_THREAD_DELETE',
    'OPEN_FORUM_POST_CREATE',
    'OPEN_FORUM_POST_DELETE',
    'OPEN_FORUM_REPLY_CREATE',
    'OPEN_FORUM_REPLY_DELETE',
  ],
  AUDIO_OR_LIVE_CHANNEL_MEMBER: ['AUDIO_OR_LIVE_CHANNEL_MEMBER_ENTER', 'AUDIO_OR_LIVE_CHANNEL_MEMBER_EXIT'],
  ENTER_AIO: ['ENTER_AIO'],
  GROUP_MEMBERS: ['GROUP_MEMBER_ADD', 'GROUP_MEMBER_REMOVE'],
  GROUP_AND_C2C_EVENT: [
    'C2C_MESSAGE_CREATE',
    'FRIEND_ADD',
    'FRIEND_DEL',
    'C2C_MSG_REJECT',
    'C2C_MSG_RECEIVE',
    'GROUP_AT_MESSAGE_CREATE',
    'GROUP_MESSAGE_CREATE',
    'GROUP_ADD_ROBOT',
    'GROUP_DEL_ROBOT',
    'GROUP_MSG_REJECT',
    'GROUP_MSG_RECEIVE',
    'SUBSCRIBE_MESSAGE_STATUS',
  ],
  INTERACTION: ['INTERACTION_CREATE'],
  MESSAGE_AUDIT: ['MESSAGE_AUDIT_PASS', 'MESSAGE_AUDIT_REJECT'],
  FORUMS_EVENT: [
    'FORUM_THREAD_CREATE',
    'FORUM_THREAD_UPDATE',
    'FORUM_THREAD_DELETE',
    'FORUM_POST_CREATE',
    'FORUM_POST_DELETE',
    'FORUM_REPLY_CREATE',
    'FORUM_REPLY_DELETE',
    'FORUM_PUBLISH_AUDIT_RESULT',
  ],
  AUDIO_ACTION: ['AUDIO_START', 'AUDIO_FINISH', 'AUDIO_ON_MIC', 'AUDIO_OFF_MIC'],
  PUBLIC_GUILD_MESSAGES: ['AT_MESSAGE_CREATE', 'PUBLIC_MESSAGE_DELETE'],
};

/** Event type `t` → the intent bit that subscribes to it. */
export const EVENT_INTENT: ReadonlyMap<string, number> = new Map(
  (Object.entries(EVENTS_BY_INTENT) as [IntentName, readonly string[]][]).flatMap(([name, events]) =>
    events.map((t) => [t, Intent[name]] as const),
  ),
);

/** The intent bit for an event type, or undefined for types outside the table (READY, RESUMED, unknown). */
export function intentOf(eventType: string): number | undefined {
  return EVENT_INTENT.get(eventType);
}

/** Every event type Hookway knows by name, in the order of the intents table. */
export const EVENT_TYPES: readonly string[] = [...EVENT_INTENT.keys()];

/** The valid event types, grouped by intent, one intent a line: for messages that refuse an unknown one. */
export function describeEventTypes(separator = '\n'): string {
  return (Object.entries(EVENTS_BY_INTENT) as [IntentName, readonly string[]][])
    .map(([intent, types]) => `${intent}: ${types.join(', ')}`)
    .join(separator);
}

export type EventListParse =
  { ok: true; events: string[] } | { ok: false; problem: 'empty' } | { ok: false; problem: 'unknown'; unknown: string[] };

/**
 * A comma-separated list of event types (`hookway keys add --events`, raw clients' `events=`), written once: names
 * are trimmed and case-insensitive (`c2c_message_create` is C2C_MESSAGE_CREATE), repeats count once, empty items are
 * skipped; at least one name, each one the intents table knows.
 */
export function parseEventList(text: string): EventListParse {
  const events = [
    ...new Set(
      text
        .split(',')
        .map((e) => e.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
  if (events.length === 0) return { ok: false, problem: 'empty' };
  const unknown = events.filter((e) => !EVENT_INTENT.has(e));
  return unknown.length > 0 ? { ok: false, problem: 'unknown', unknown } : { ok: true, events };
}

/** The name of an intent bit (`1 << 25` → `GROUP_AND_C2C_EVENT`), for messages. */
export function intentName(bit: number): IntentName | undefined {
  return (Object.keys(Intent) as IntentName[]).find((name) => Intent[name] === bit);
}
