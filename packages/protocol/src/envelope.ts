import { z } from 'zod';
import { Op } from './opcodes.ts';

/**
 * The envelope the platform POSTs (qq-protocol.md §1). Only the fields Hookway routes on are checked;
 * everything else travels untouched because raw clients receive the original bytes.
 */
export const webhookEnvelopeSchema = z.looseObject({
  op: z.number().int(),
  id: z.string().min(1).max(512).optional(),
  t: z.string().max(128).optional(),
  s: z.number().int().optional(),
  d: z.unknown(),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;

/** The envelope fields Hookway routes on. */
export interface RoutedFields {
  readonly op: number;
  readonly id: string | undefined;
  readonly t: string | undefined;
}

/**
 * `webhookEnvelopeSchema.safeParse`, reduced to the routed fields, without zod for the envelopes the platform sends
 * (~4 µs per webhook saved): a plain object whose fields already have the schema's types is accepted at once;
 * anything else goes to the schema, so every refusal, and its message, is the schema's own.
 */
export function routedFields(value: unknown): { success: true; data: RoutedFields } | { success: false; error: z.ZodError } {
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const { op, id, t, s, d } = value as Record<string, unknown>;
    if (
      d !== undefined &&
      Number.isSafeInteger(op) &&
      (id === undefined || (typeof id === 'string' && id.length >= 1 && id.length <= 512)) &&
      (t === undefined || (typeof t === 'string' && t.length <= 128)) &&
      (s === undefined || Number.isSafeInteger(s))
    ) {
      return { success: true, data: { op: op as number, id, t } };
    }
  }
  const parsed = webhookEnvelopeSchema.safeParse(value);
  return parsed.success ? { success: true, data: { op: parsed.data.op, id: parsed.data.id, t: parsed.data.t } } : parsed;
}

export type RoutedFieldsResult = ReturnType<typeof routedFields>;

/** A webhook body parsed: not JSON, or its routed fields and (for anything but a dispatch) its whole value. */
export type ParsedWebhookBody =
  | { readonly json: false }
  | {
      readonly json: true;
      readonly envelope: RoutedFieldsResult;
      /** The body's value; `undefined` for a dispatch (op 0), which is routed on its fields and passed on as bytes. */
      readonly value: unknown;
    };

/** Some character beyond ASCII (U+0080 and up). */
const NON_ASCII = /[^\x00-\x7f]/; // eslint-disable-line no-control-regex -- the range's lower end, not a control character to match

/**
 * `JSON.parse` and `routedFields` for a webhook body that is valid UTF-8 (the caller has checked, `isUtf8`). The body
 * is decoded as latin1 first: one byte per character instead of a two-byte string for the Chinese text most events
 * carry (~1 µs and ~0.6 KiB of garbage per event less). That decoding accepts and refuses exactly the bodies a UTF-8
 * decoding does: JSON's syntax is ASCII; in valid UTF-8 every byte ≥ 0x80 is part of a multi-byte character, which
 * JSON allows only inside strings, and latin1 turns each such byte into one character U+0080–U+00FF, which strings
 * take as they are — never a quote, a backslash or a control character. Only the values of strings with such
 * characters differ, so the UTF-8 decoding is used whenever a value is needed beyond ASCII routed fields.
 */
export function parseWebhookBody(rawBody: Buffer): ParsedWebhookBody {
  let value: unknown;
  try {
    value = JSON.parse(rawBody.toString('latin1'));
  } catch {
    return { json: false };
  }
  const fast = routedFields(value);
  if (
    fast.success &&
    fast.data.op === Op.Dispatch &&
    (fast.data.id === undefined || !NON_ASCII.test(fast.data.id)) &&
    (fast.data.t === undefined || !NON_ASCII.test(fast.data.t))
  ) {
    return { json: true, envelope: fast, value: undefined };
  }
  value = JSON.parse(rawBody.toString('utf8'));
  const envelope = routedFields(value);
  return { json: true, envelope, value: envelope.success && envelope.data.op === Op.Dispatch ? undefined : value };
}

/** Op 13 body: `{"d":{"plain_token":"…","event_ts":"…"},"op":13}` — both fields are JSON strings. */
export const callbackValidationSchema = z.object({
  op: z.literal(13),
  d: z.object({
    plain_token: z.string().min(1).max(1024),
    event_ts: z.string().min(1).max(32),
  }),
});
export type CallbackValidation = z.infer<typeof callbackValidationSchema>;

/** Frames a raw-mode client may send; anything else is counted and ignored. */
export const clientHeartbeatSchema = z.looseObject({ op: z.literal(1) });
