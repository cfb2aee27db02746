import { z } from 'zod';
import { scanDispatch } from './dispatch-scan.ts';
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

/**
 * `JSON.parse` and `routedFields` for a webhook body that is valid UTF-8 (the caller has checked, `isUtf8`). A plain
 * dispatch is read by scanDispatch (dispatch-scan.ts), which checks the body's syntax without building its value;
 * everything else — op 13, checks, refusals and their messages — comes from `JSON.parse` as before.
 */
export function parseWebhookBody(rawBody: Buffer): ParsedWebhookBody {
  const dispatch = scanDispatch(rawBody);
  if (dispatch) return { json: true, envelope: { success: true, data: { op: Op.Dispatch, ...dispatch } }, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { json: false };
  }
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
