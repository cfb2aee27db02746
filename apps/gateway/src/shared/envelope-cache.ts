import type { BusEvent } from '@hookway/bus';
import { topLevelValueRange } from '@hookway/protocol';

/** What gateway framing needs from an event, parsed once per event however many sessions receive it. */
export interface EnvelopeFacts {
  readonly t: string | undefined;
  readonly id: string | undefined;
  readonly guildId: unknown;
  /** The platform's `d`, byte for byte. */
  readonly rawD: Buffer;
}

const cache = new WeakMap<Buffer, EnvelopeFacts>();

export function envelopeFacts(event: BusEvent): EnvelopeFacts {
  const cached = cache.get(event.body);
  if (cached) return cached;
  let parsed: { t?: unknown; id?: unknown; d?: { guild_id?: unknown } } = {};
  try {
    parsed = JSON.parse(event.body.toString('utf8')) as typeof parsed;
  } catch {
    // The ingress only stores valid JSON; a foreign body gets an empty d below.
  }
  const range = topLevelValueRange(event.body, 'd');
  const facts: EnvelopeFacts = {
    t: typeof parsed.t === 'string' ? parsed.t : undefined,
    id: typeof parsed.id === 'string' ? parsed.id : event.eventId,
    guildId: typeof parsed.d === 'object' && parsed.d !== null ? parsed.d.guild_id : undefined,
    rawD: range ? event.body.subarray(range[0], range[1]) : Buffer.from('null'),
  };
  cache.set(event.body, facts);
  return facts;
}
