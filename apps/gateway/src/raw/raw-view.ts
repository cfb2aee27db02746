import type { BotStanding } from '@hookway/bots';
import type { RawHelloFrame } from '@hookway/protocol';
import type { KeyGrant } from '../shared/client-keys.ts';

export type EventsDecision = { ok: true; events: ReadonlySet<string> | undefined } | { ok: false; message: string };

/**
 * What a raw client will hear: its `events=` list within its key's limit. A key's limit always applies; asking in
 * the URL for a type the key excludes is refused (403) rather than silently narrowed, so a client never waits for
 * events it can never get.
 */
export function narrowEvents(requested: readonly string[] | undefined, grant: KeyGrant | undefined): EventsDecision {
  const limit = grant?.events;
  if (requested === undefined) return { ok: true, events: limit };
  const excluded = limit ? requested.filter((t) => !limit.has(t)) : [];
  if (excluded.length > 0) {
    return {
      ok: false,
      message:
        `the client key "${grant!.name}" receives only ${[...limit!].join(', ')}; events= also asks for ${excluded.join(', ')}. ` +
        'Leave those out, or ask for a key that includes them (pnpm hookway keys add --events …)',
    };
  }
  return { ok: true, events: new Set(requested) };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The `bot` part of a hello frame: the activity record in the frame's words, with a hint when nothing was ever seen. */
export function helloBot(appid: string | undefined, standing: BotStanding | undefined): RawHelloFrame['bot'] {
  const known = standing ?? { validations: 0, lastValidationAtMs: undefined, lastEventAtMs: undefined, lastEventType: undefined };
  const seen = known.validations > 0 || known.lastEventAtMs !== undefined;
  const hint = !standing
    ? 'what this Hookway has seen of the bot cannot be read right now; try again shortly'
    : seen
      ? undefined
      : 'this Hookway has never answered an op 13 nor accepted a verified event for this secret: check the secret you connected with, ' +
        'and that the bot’s callback URL points at this Hookway';
  return {
    appid: appid ?? null,
    seen,
    validations: known.validations,
    lastValidationAt: iso(known.lastValidationAtMs),
    lastEventAt: iso(known.lastEventAtMs),
    lastEventType: known.lastEventType ?? null,
    ...(hint ? { hint } : {}),
  };
}
