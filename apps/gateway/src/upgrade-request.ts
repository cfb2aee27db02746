import { isPlausibleSecret } from '@hookway/protocol';

/** What a WebSocket upgrade asked for, or why it cannot be served. */
export type UpgradeTarget =
  | { kind: 'raw'; secret: string; after: string | undefined }
  | { kind: 'refused'; status: number; error: string; message: string };

const MAX_CURSOR_LENGTH = 512;

/** `/ws?secret=S[&after=ID]` and `/ws/S[?after=ID]` are raw mode; anything else is refused with a reason. */
export function parseUpgradeTarget(rawUrl: string | undefined): UpgradeTarget {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://upgrade.invalid');
  } catch {
    return refused(400, 'bad_url', 'the request URL could not be parsed');
  }
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments[0] !== 'ws' || segments.length > 2) {
    return refused(404, 'not_found', 'WebSocket endpoints: /ws?secret=<AppSecret> or /ws/<AppSecret>');
  }
  const secret = segments[1] !== undefined ? safeDecode(segments[1]) : url.searchParams.get('secret');
  if (!isPlausibleSecret(secret)) {
    return refused(400, 'invalid_secret', 'connect to /ws?secret=<AppSecret> or /ws/<AppSecret> (6–128 of A-Z a-z 0-9 . _ ~ -)');
  }
  const after = url.searchParams.get('after');
  if (after !== null && (after.length === 0 || after.length > MAX_CURSOR_LENGTH)) {
    return refused(400, 'invalid_after', `after must be the top-level id of the last event received (1–${MAX_CURSOR_LENGTH} characters)`);
  }
  return { kind: 'raw', secret, after: after ?? undefined };
}

function refused(status: number, error: string, message: string): UpgradeTarget {
  return { kind: 'refused', status, error, message };
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
