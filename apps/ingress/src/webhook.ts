import {
  callbackValidationSchema,
  DISPATCH_ACK_BODY,
  HOOKWAY_CHECK_OP,
  hookwayCheckSchema,
  Op,
  signCallbackValidation,
  parseWebhookBody,
} from '@hookway/protocol';
import { isUtf8 } from 'node:buffer';
import type { EventLog } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import type { BotSequencer } from './bot-sequencer.ts';
import type { DispatchVerifier, VerifierVerdict } from './verifier.ts';

/** What the webhook endpoint answers; `error` names the problem for every non-2xx answer. */
export interface WebhookReply {
  readonly status: number;
  readonly body: string;
  readonly outcome: WebhookOutcome;
  readonly headers?: Record<string, string>;
  /** The event's `t`, for an accepted or duplicate op 0 that has one. */
  readonly eventType?: string;
}

export type WebhookOutcome =
  | 'validated'
  | 'accepted'
  | 'duplicate'
  | 'malformed_json'
  | 'invalid_utf8'
  | 'invalid_payload'
  | 'invalid_validation_request'
  | 'unsupported_op'
  | 'missing_signature'
  | 'malformed_signature'
  | 'missing_timestamp'
  | 'malformed_timestamp'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'bus_unavailable'
  /** The verify pool's queue was full (VERIFY_THREADS): 503, the platform retries. */
  | 'verify_busy'
  /** The ingress is closing while the signature waited: 503, the platform retries. */
  | 'shutting_down'
  /** `hookway check`'s signed test event, handed to the check socket holding its nonce. */
  | 'check_delivered'
  /** A signed check event whose nonce no check socket holds (404). */
  | 'check_undelivered'
  | 'invalid_check';

export interface WebhookRequest {
  readonly secret: AppSecret;
  readonly rawBody: Buffer;
  readonly signatureTimestamp: string | undefined;
  readonly signature: string | undefined;
}

export interface WebhookDeps {
  readonly events: Pick<EventLog, 'publish' | 'publishCheck'>;
  readonly signatureMaxSkewSec: number;
  readonly nowMs: () => number;
  /** Checks op 0 (and check event) signatures: inline, or on the verify pool (VERIFY_THREADS). */
  readonly verifier: DispatchVerifier;
  /** Publishes each bot's events in the order their webhooks were read, however their verdicts come back. */
  readonly sequencer: BotSequencer;
}

const json = (status: number, outcome: WebhookOutcome, body: object, headers?: Record<string, string>): WebhookReply => ({
  status,
  outcome,
  body: JSON.stringify(body),
  ...(headers ? { headers } : {}),
});
const problem = (status: number, error: WebhookOutcome, message: string, headers?: Record<string, string>) =>
  json(status, error, { error, message }, headers);

type SignatureRefusal = Exclude<VerifierVerdict, { ok: true }>['reason'];
const SIGNATURE_MESSAGES: Record<SignatureRefusal, string> = {
  missing_signature: 'X-Signature-Ed25519 header is required for op 0',
  malformed_signature: 'X-Signature-Ed25519 must be 128 hex characters',
  missing_timestamp: 'X-Signature-Timestamp header is required for op 0',
  malformed_timestamp: 'X-Signature-Timestamp must be Unix seconds as decimal digits',
  bad_signature:
    "signature does not match this bot's AppSecret and the body: check the AppSecret Hookway has for it (BOTS, or the callback URL's secret)",
  busy: 'too many signatures are waiting to be checked (VERIFY_THREADS); the platform will retry',
  closed: 'this instance is shutting down; the platform will retry',
};

/**
 * One webhook, decided: op 13 is answered at once; op 0 is verified, checked for freshness, and stored on
 * the bus before it is acknowledged, so a 200 always means the event will reach clients. A reply known at once is
 * returned as it is: no promise, and no microtask hop, for what needs none.
 */
export function handleWebhook(req: WebhookRequest, deps: WebhookDeps): WebhookReply | Promise<WebhookReply> {
  // Raw clients receive these bytes as WebSocket text frames, which must be UTF-8 (RFC 6455 §5.6).
  if (!isUtf8(req.rawBody)) return problem(400, 'invalid_utf8', 'body is not valid UTF-8');
  const body = parseWebhookBody(req.rawBody);
  if (!body.json) return problem(400, 'malformed_json', 'body is not valid JSON');
  const { envelope, value: parsed } = body;
  if (!envelope.success) {
    return problem(400, 'invalid_payload', `body is not a QQ payload: ${describeIssue(envelope.error.issues[0])}`);
  }

  switch (envelope.data.op) {
    case Op.CallbackValidation:
      return validateCallback(req.secret, parsed);
    case Op.Dispatch:
      return dispatch(req, envelope.data.id, envelope.data.t, deps);
    case HOOKWAY_CHECK_OP:
      return deliverCheck(req, parsed, deps);
    default:
      return problem(
        400,
        'unsupported_op',
        `op ${envelope.data.op} is not a webhook opcode; Hookway accepts op 0 (dispatch) and op 13 (callback validation)`,
      );
  }
}

function validateCallback(secret: AppSecret, parsed: unknown): WebhookReply {
  const request = callbackValidationSchema.safeParse(parsed);
  if (!request.success) {
    return problem(
      400,
      'invalid_validation_request',
      `op 13 needs d.plain_token and d.event_ts as strings: ${describeIssue(request.error.issues[0])}`,
    );
  }
  const { plain_token, event_ts } = request.data.d;
  // Op 13 signs event_ts ‖ plain_token with the key op 0 is verified with (timestamp ‖ body): signing a `{` would let
  // anyone who can call op 13 — with the secretless POST /webhook, anyone who knows the appid — sign an event of their
  // own. An event body is a JSON object, so bytes without `{` can never pass for one, however they are split.
  if (`${event_ts}${plain_token}`.includes('{')) {
    return problem(
      400,
      'invalid_validation_request',
      'd.plain_token and d.event_ts may not contain "{": op 13 shares its key with op 0, and Hookway never signs bytes that could pass for an event',
    );
  }
  return json(200, 'validated', { plain_token, signature: signCallbackValidation(secret.reveal(), event_ts, plain_token) });
}

/** Signature, then freshness: what every signed webhook (an event or a check) passes before anything is done with it. */
function refusal(req: WebhookRequest, verdict: VerifierVerdict, deps: WebhookDeps): WebhookReply | undefined {
  if (!verdict.ok) {
    if (verdict.reason === 'busy') return problem(503, 'verify_busy', SIGNATURE_MESSAGES.busy, { 'retry-after': '1' });
    if (verdict.reason === 'closed') return problem(503, 'shutting_down', SIGNATURE_MESSAGES.closed, { 'retry-after': '5' });
    return problem(401, verdict.reason, SIGNATURE_MESSAGES[verdict.reason]);
  }

  if (deps.signatureMaxSkewSec > 0) {
    const skewSec = Math.abs(deps.nowMs() / 1000 - Number(req.signatureTimestamp));
    if (skewSec > deps.signatureMaxSkewSec) {
      return problem(
        401,
        'stale_timestamp',
        `X-Signature-Timestamp is ${Math.round(skewSec)} s from server time; the limit is ${deps.signatureMaxSkewSec} s (replay protection, SIGNATURE_MAX_SKEW_SEC)`,
      );
    }
  }
  return undefined;
}

const verifySignature = (req: WebhookRequest, deps: WebhookDeps) =>
  deps.verifier.verify(req.secret, req.signatureTimestamp, req.signature, req.rawBody);

/**
 * `hookway check`'s test event (packages/protocol/src/check.ts says why it is built this way): signed like an event,
 * verified before anything else, then handed only to the check socket holding its nonce — never to the bot's log.
 */
async function deliverCheck(req: WebhookRequest, parsed: unknown, deps: WebhookDeps): Promise<WebhookReply> {
  const refused = refusal(req, await verifySignature(req, deps), deps);
  if (refused) return refused;
  const check = hookwayCheckSchema.safeParse(parsed);
  if (!check.success) {
    return problem(400, 'invalid_check', `a check event is {"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"<22–64 of A-Z a-z 0-9 _ ->"}}`);
  }
  let receivers;
  try {
    receivers = await deps.events.publishCheck(check.data.d.nonce, req.rawBody);
  } catch {
    return problem(503, 'bus_unavailable', 'event store is unavailable', { 'retry-after': '1' });
  }
  return receivers > 0
    ? json(200, 'check_delivered', { op: Op.HttpCallbackAck, d: 0, check: 'delivered' })
    : problem(
        404,
        'check_undelivered',
        'no check socket holds this nonce here: the ingress and the gateway that holds /ws/check/<nonce> must share one bus (the same REDIS_URL)',
      );
}

/**
 * Verified (perhaps on another thread), then published in the bot's acceptance order: the sequencer holds a later
 * webhook's publish until every earlier one of the same bot has published or been refused.
 */
function dispatch(
  req: WebhookRequest,
  eventId: string | undefined,
  eventType: string | undefined,
  deps: WebhookDeps,
): WebhookReply | Promise<WebhookReply> {
  return deps.sequencer.run(req.secret.reveal(), verifySignature(req, deps), (verdict) => {
    const refused = refusal(req, verdict, deps);
    if (refused) return refused;
    return publish(req, eventId, eventType, deps);
  });
}

function publish(
  req: WebhookRequest,
  eventId: string | undefined,
  eventType: string | undefined,
  deps: WebhookDeps,
): WebhookReply | Promise<WebhookReply> {
  const unavailable = () => problem(503, 'bus_unavailable', 'event store is unavailable; the platform will retry', { 'retry-after': '1' });
  let published;
  try {
    published = deps.events.publish(req.secret, { eventId, body: req.rawBody });
  } catch {
    return unavailable();
  }
  // One `then`, not async/await: the acknowledgement is a microtask hop closer to the store.
  return published.then((result): WebhookReply => {
    if (result.status === 'duplicate') {
      const duplicate: WebhookReply = {
        status: 200,
        outcome: 'duplicate',
        body: DISPATCH_ACK_BODY,
        headers: { 'x-hookway-duplicate': '1' },
      };
      return eventType === undefined ? duplicate : { ...duplicate, eventType };
    }
    return eventType === undefined
      ? { status: 200, outcome: 'accepted', body: DISPATCH_ACK_BODY }
      : { status: 200, outcome: 'accepted', body: DISPATCH_ACK_BODY, eventType };
  }, unavailable);
}

function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'unknown problem';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
  return `${where}: ${issue.message}`;
}
