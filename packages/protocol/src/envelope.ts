import { z } from 'zod';

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
