import { MAX_CALL_PATH_LENGTH } from './openapi-paths.ts';

/**
 * Calls through the socket: a raw client sends
 *   {"hookway":"call","id":"r1","method":"POST","path":"/v2/groups/<group_openid>/messages","body":{…}}
 * and gets exactly one result with the same id:
 *   {"hookway":"result","id":"r1","status":200,"body":{…}}              the platform answered (any HTTP status)
 *   {"hookway":"result","id":"r1","error":"<code>","message":"…"}       Hookway did not get an answer, and why
 */
export const CALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type CallMethod = (typeof CALL_METHODS)[number];

export interface CallFrame {
  readonly id: string;
  readonly method: CallMethod;
  /** As sent (path and query); checked against the OpenAPI table separately. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

/** Why a call got no answer from the platform. Every one of them is documented in the README and docs/yi-language.md. */
export type CallError =
  /** Not a call frame Hookway can read: bad JSON, a missing or over-long id, an unknown method, a body that is no object… */
  | 'bad_call'
  /** The path is not one of the OpenAPI paths Hookway forwards. */
  | 'path_not_allowed'
  /** The connection's client key is read-only: only GET calls. */
  | 'forbidden'
  /** More than RAW_CALLS_IN_FLIGHT_MAX calls of this connection are waiting for the platform. */
  | 'too_many_calls'
  /** Hookway does not know this bot's appid, or the platform issued no access token for its AppSecret. */
  | 'unknown_bot'
  /** The platform did not answer within OPENAPI_TIMEOUT_MS. */
  | 'upstream_timeout'
  /** The platform could not be reached, or its answer was unreadable or too large. */
  | 'upstream_failed';

export type CallResult =
  | { readonly hookway: 'result'; readonly id: string | null; readonly status: number; readonly body: unknown }
  | { readonly hookway: 'result'; readonly id: string | null; readonly error: CallError; readonly message: string };

/** Ids are the client's own, echoed back: short printable text. */
export const MAX_CALL_ID_LENGTH = 128;
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** Whether a text frame is meant as a call (cheap: before any parsing). Anything else keeps its old meaning. */
export function looksLikeCall(text: string): boolean {
  return text.includes('"hookway"');
}

/** A text frame that looks like a call → the call, or why not (with its id when one could be read). */
export function parseCallFrame(text: string): { ok: true; call: CallFrame } | { ok: false; id: string | null; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, id: null, message: 'the frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, id: null, message: 'a call is a JSON object' };
  const frame = value as Record<string, unknown>;
  const id = typeof frame.id === 'string' && ID_PATTERN.test(frame.id) ? frame.id : null;
  const bad = (message: string) => ({ ok: false as const, id, message });
  if (frame.hookway !== 'call') return bad('"hookway" must be "call" in a frame sent to Hookway');
  if (id === null) return bad(`"id" must be a string of 1–${MAX_CALL_ID_LENGTH} printable ASCII characters, echoed in the result`);
  const method = frame.method;
  if (typeof method !== 'string' || !(CALL_METHODS as readonly string[]).includes(method)) {
    return bad(`"method" must be one of ${CALL_METHODS.join(', ')}`);
  }
  if (typeof frame.path !== 'string' || !frame.path.startsWith('/') || frame.path.length > MAX_CALL_PATH_LENGTH) {
    return bad(
      `"path" must be an OpenAPI path starting with / (at most ${MAX_CALL_PATH_LENGTH} characters), e.g. /v2/groups/<group_openid>/messages`,
    );
  }
  const body = frame.body;
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    return bad('"body" must be a JSON object, or left out');
  }
  return {
    ok: true,
    call: { id, method: method as CallMethod, path: frame.path, ...(body !== undefined ? { body: body as Record<string, unknown> } : {}) },
  };
}

export function callResultFrame(result: CallResult): string {
  return JSON.stringify(result);
}
