import { matchSecretEndpoint, stripAbsoluteForm, type AppSecret } from '@hookway/protocol';

/** What a WebSocket upgrade asked for, or why it cannot be served. */
export type UpgradeTarget =
  | { kind: 'raw'; secret: AppSecret; after: string | undefined }
  | { kind: 'gateway'; secret: AppSecret | undefined }
  | { kind: 'refused'; status: number; error: string; message: string };

const MAX_CURSOR_LENGTH = 512;

/** `/ws?secret=S[&after=ID]` and `/ws/S[?after=ID]` are raw mode; anything else is refused with a reason. */
export function parseUpgradeTarget(rawUrl: string | undefined): UpgradeTarget {
  const gateway = matchSecretEndpoint(rawUrl ?? '/', 'websocket');
  if (gateway) {
    // The secret is optional here: SDKs that only take the URL from /gateway/bot authenticate with a token.
    const given = gateway.query.has('secret') || /^\/websocket\/[^/?]/.test(stripAbsoluteForm(rawUrl ?? ''));
    if (given && gateway.secret === undefined) {
      return refused(400, 'invalid_secret', 'use /websocket?secret=<AppSecret>, or /websocket with a token in Identify');
    }
    return { kind: 'gateway', secret: gateway.secret };
  }
  const match = matchSecretEndpoint(rawUrl ?? '/', 'ws');
  if (!match) return refused(404, 'not_found', 'WebSocket endpoints: /ws?secret=<AppSecret>, /ws/<AppSecret>, /websocket');
  if (match.secret === undefined) {
    return refused(400, 'invalid_secret', 'connect to /ws?secret=<AppSecret> or /ws/<AppSecret> (6–128 of A-Z a-z 0-9 . _ ~ -)');
  }
  const after = match.query.getAll('after');
  if (after.length > 1 || (after.length === 1 && (after[0]!.length === 0 || after[0]!.length > MAX_CURSOR_LENGTH))) {
    return refused(400, 'invalid_after', `after must be the top-level id of the last event received (1–${MAX_CURSOR_LENGTH} characters)`);
  }
  return { kind: 'raw', secret: match.secret, after: after[0] };
}

function refused(status: number, error: string, message: string): UpgradeTarget {
  return { kind: 'refused', status, error, message };
}
