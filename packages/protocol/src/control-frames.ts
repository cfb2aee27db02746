/**
 * Frames Hookway itself sends to raw-mode clients. They carry a top-level `hookway` field, which platform
 * payloads never have, and are only sent to clients that asked for them (by connecting with `after` or `hello=1`).
 */
export interface ResumeStatusFrame {
  hookway: 'resume';
  /** True when every event after `after` is about to be delivered; false when some may have been missed. */
  recovered: boolean;
  /** The cursor the client sent. */
  after: string;
  /** Why recovery failed: the id is not (or no longer) in the bot's history. */
  reason?: 'cursor_not_found';
  /** How many stored events follow this frame before live delivery starts. */
  replayed: number;
}

export function resumeStatusFrame(frame: Omit<ResumeStatusFrame, 'hookway'>): string {
  return JSON.stringify({ hookway: 'resume', ...frame } satisfies ResumeStatusFrame);
}

/**
 * The first frame a raw client that connected with `hello=1` receives: what Hookway knows of its bot, the event
 * types it will get, and (with `after`) how the resume went — so a mistyped secret shows up as "this bot has never
 * had a verified event" instead of silence. With hello=1 this frame also carries the resume report, and no separate
 * `{"hookway":"resume"}` frame is sent.
 */
export interface RawHelloFrame {
  hookway: 'hello';
  bot: {
    /** The bot's appid when Hookway knows it (a client key's bot, BOTS/BOTS_FILE, or learned from X-Bot-Appid). */
    appid: string | null;
    /** Whether this Hookway has ever answered an op 13 or accepted a verified event for this secret. */
    seen: boolean;
    /** Op 13 callback validations answered for this secret. */
    validations: number;
    /** ISO 8601 times, or null when never. */
    lastValidationAt: string | null;
    lastEventAt: string | null;
    lastEventType: string | null;
    /** Present when nothing was ever seen: what that usually means. */
    hint?: string;
  };
  /** The event types this connection receives (the `events=` filter and the key's limit); null: all of them. */
  events: string[] | null;
  /** With `after`: the same facts as the resume frame (without its `hookway` field); null without `after`. */
  resume: Omit<ResumeStatusFrame, 'hookway'> | null;
}

export function rawHelloFrame(frame: Omit<RawHelloFrame, 'hookway'>): string {
  return JSON.stringify({ hookway: 'hello', ...frame } satisfies RawHelloFrame);
}
