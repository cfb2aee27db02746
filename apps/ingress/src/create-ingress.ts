import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { isPlausibleSecret, secretFingerprint } from '@hookway/protocol';
import type { Bus } from '@hookway/bus';
import type { HealthSource, Logger, Redactor } from '@hookway/runtime';
import { handleWebhook, type WebhookOutcome, type WebhookReply } from './webhook.ts';

export interface IngressDeps {
  readonly bus: Pick<Bus, 'publish' | 'isReady'>;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly maxBodyBytes: number;
  readonly signatureMaxSkewSec: number;
  readonly nowMs?: () => number;
}

export interface Ingress extends HealthSource {
  /** The express app: `POST /webhook?secret=S` and `POST /webhook/S`; JSON 404 for anything else. */
  readonly app: Express;
}

/** Outcomes that mean "someone sent us something wrong", logged at warn so misconfiguration is visible. */
const REJECTIONS = new Set<WebhookOutcome>([
  'malformed_json',
  'invalid_payload',
  'invalid_validation_request',
  'unsupported_op',
  'missing_signature',
  'malformed_signature',
  'missing_timestamp',
  'malformed_timestamp',
  'bad_signature',
  'stale_timestamp',
]);

export function createIngress(deps: IngressDeps): Ingress {
  const nowMs = deps.nowMs ?? Date.now;
  const counts = { accepted: 0, duplicate: 0, validated: 0, rejected: 0, unavailable: 0 };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const rawBody = express.raw({ type: () => true, limit: deps.maxBodyBytes, inflate: false });

  const webhook = async (req: Request, res: Response) => {
    const secret = req.params.secret ?? req.query.secret;
    if (!isPlausibleSecret(secret)) {
      counts.rejected++;
      return sendProblem(res, 400, 'invalid_secret',
        'put the AppSecret in the URL: /webhook?secret=<AppSecret> or /webhook/<AppSecret> (6–128 of A-Z a-z 0-9 . _ ~ -)');
    }
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const startedMs = nowMs();
    const reply = await handleWebhook(
      {
        secret,
        rawBody: body,
        signatureTimestamp: req.get('x-signature-timestamp'),
        signature: req.get('x-signature-ed25519'),
      },
      { bus: deps.bus, signatureMaxSkewSec: deps.signatureMaxSkewSec, nowMs },
    );
    count(reply);
    if (reply.outcome === 'accepted' || reply.outcome === 'validated') deps.redactor.remember(secret);
    const log = { bot: secretFingerprint(secret), outcome: reply.outcome, status: reply.status, bytes: body.length, ms: nowMs() - startedMs };
    if (REJECTIONS.has(reply.outcome)) deps.logger.warn(log, 'webhook rejected');
    else if (reply.outcome === 'bus_unavailable') deps.logger.error(log, 'webhook not stored: bus unavailable');
    else deps.logger.debug(log, 'webhook');
    send(res, reply);
  };

  const count = (reply: WebhookReply) => {
    if (reply.outcome === 'accepted') counts.accepted++;
    else if (reply.outcome === 'duplicate') counts.duplicate++;
    else if (reply.outcome === 'validated') counts.validated++;
    else if (reply.outcome === 'bus_unavailable') counts.unavailable++;
    else counts.rejected++;
  };

  app.post(['/webhook', '/webhook/:secret'], rawBody, webhook);
  app.all(['/webhook', '/webhook/:secret'], (_req, res) => {
    res.set('allow', 'POST');
    sendProblem(res, 405, 'method_not_allowed', 'the webhook endpoint only accepts POST');
  });
  app.use((req, res) => sendProblem(res, 404, 'not_found', `no route for ${req.method} ${req.path}`));

  const onError: ErrorRequestHandler = (err: { status?: number; type?: string; message?: string }, req, res, _next) => {
    counts.rejected++;
    if (err.type === 'entity.too.large') {
      return sendProblem(res, 413, 'body_too_large', `body exceeds MAX_BODY_BYTES (${deps.maxBodyBytes} bytes)`);
    }
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) deps.logger.error({ err, path: req.path }, 'unexpected error handling request');
    sendProblem(res, status, err.type?.replace(/\./g, '_') ?? 'bad_request', status === 500 ? 'internal error' : (err.message ?? 'bad request'));
  };
  app.use(onError);

  return {
    app,
    notReadyReason: () => (deps.bus.isReady() ? undefined : 'bus not ready'),
    stats: () => ({
      webhooksAccepted: counts.accepted,
      webhooksDuplicate: counts.duplicate,
      webhooksValidated: counts.validated,
      webhooksRejected: counts.rejected,
      webhooksUnavailable: counts.unavailable,
    }),
  };
}

function send(res: Response, reply: WebhookReply): void {
  res.status(reply.status);
  if (reply.headers) res.set(reply.headers);
  res.type('application/json').send(reply.body);
}

function sendProblem(res: Response, status: number, error: string, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error, message }));
}
