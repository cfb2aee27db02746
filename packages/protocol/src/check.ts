import { z } from 'zod';

/**
 * `hookway check`'s test event, end to end, without ever looking like a platform event to anyone but the check:
 *
 * - The check opens its own socket at `/ws/check/<nonce>` (a fresh random nonce per run). That socket joins no bot
 *   feed: it gets no real events, reads no history and moves no bot's "delivered" mark. Servers from before the
 *   check answer that path 404, so an old server can never treat the check's socket as an ordinary client.
 * - It then POSTs `{"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"…"}}` to the webhook URL, signed with the bot's key
 *   like an op 0 delivery. op -1 is never a QQ opcode, and Hookway before the check answers it 400 unsupported_op, so
 *   the body can never become an event anywhere. The ingress verifies the signature first (a bad one is refused as
 *   for op 0), then publishes the exact bytes on the check channel of that nonce (never the bot's log): only the
 *   socket holding the nonce — on whichever gateway it landed — receives it. No client of the bot sees it, the bot's
 *   history (`after` resume) never holds it, and gateway-mode sessions, which read only bot feeds, never forward it.
 */
export const HOOKWAY_CHECK_OP = -1;
export const HOOKWAY_CHECK_TYPE = 'HOOKWAY_CHECK';
/** Random, URL-safe: 22–64 of A-Z a-z 0-9 _ - (the check uses 32 random bytes, base64url: 43 characters). */
export const CHECK_NONCE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

export const hookwayCheckSchema = z.object({
  op: z.literal(HOOKWAY_CHECK_OP),
  t: z.literal(HOOKWAY_CHECK_TYPE),
  d: z.looseObject({ nonce: z.string().regex(CHECK_NONCE_PATTERN) }),
});

/** The check envelope's bytes, as `hookway check` signs and posts them. */
export function checkEventBody(nonce: string, sentAtMs: number): string {
  return JSON.stringify({ op: HOOKWAY_CHECK_OP, t: HOOKWAY_CHECK_TYPE, d: { nonce, sent_at_ms: sentAtMs } });
}

/**
 * The first frame on a check socket, once a check event for its nonce will reach it. With a client key it names the
 * key's bot and the key (never the key itself), which is how `hookway check --key` tells which bot a key is for.
 */
export interface CheckReadyFrame {
  readonly hookway: 'check_ready';
  readonly nonce: string;
  readonly key?: { readonly name: string; readonly appid: string; readonly bot: string; readonly events?: readonly string[] };
}

export function checkReadyFrame(frame: Omit<CheckReadyFrame, 'hookway'>): string {
  return JSON.stringify({ hookway: 'check_ready', ...frame } satisfies CheckReadyFrame);
}

/** Check sockets close with 1000 once their time is up: the check waited long enough. */
export const CheckClose = {
  TimeUp: { code: 1000, reason: 'check time is over' },
  GoingAway: { code: 1001, reason: 'server shutting down' },
  InternalError: { code: 1011, reason: 'check channel unavailable' },
} as const;
