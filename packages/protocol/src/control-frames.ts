/**
 * Frames Hookway itself sends to raw-mode clients. They carry a top-level `hookway` field, which platform
 * payloads never have, and are only sent to clients that asked for them (by connecting with `after`).
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
