import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { isWebSocketEndpoint, matchSecretEndpoint, type AppSecret } from '@hookway/protocol';
import type { EventPublisher } from '@hookway/bus';
import { sendJson, type HealthSource, type Logger, type Redactor } from '@hookway/runtime';
import { readBody } from './read-body.ts';
import { handleWebhook, type WebhookOutcome, type WebhookReply } from './webhook.ts';

export interface IngressDeps {
  readonly events: EventPublisher;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly maxBodyBytes: number;
  readonly signatureMaxSkewSec: number;
  readonly nowMs?: () => number;
  /** Serves the OpenAPI paths (gateway discovery and the pass-through); returns false when it did not. */
  readonly openApi?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Told appid → secret for a verified webhook that names its bot (X-Bot-Appid); resolves whether it was kept. */
  readonly learnBot?: (appid: string, secret: AppSecret) => Promise<boolean>;
}

export type IngressStats = {
  webhooksAccepted: number;
  webhooksDuplicate: number;
  webhooksValidated: number;
  webhooksRejected: number;
  webhooksUnavailable: number;
};

export interface Ingress extends HealthSource {
  /**
   * The node:http request listener. `POST /webhook?secret=S` and `POST /webhook/S` are served directly
   * (express's per-request cost alone is ~40 % of the bare ceiling on this path; see docs/ARCHITECTURE.md);
   * every other request goes to `app`.
   */
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** The express app for everything that is not a webhook POST: 405 on /webhook, JSON 404 elsewhere. */
  readonly app: Express;
  stats(): IngressStats;
  /** Stops accepting events: webhooks get 503 so the platform retries them elsewhere or later. */
  close(): void;
}

/** Learning a bot from X-Bot-Appid asks the token service: rationed, and retried after a failure. */
const LEARN_PER_MINUTE = 30;
const LEARN_RETRY_MS = 60_000;
const LEARNED_KEYS_MAX = 10_000;

const REJECTIONS = new Set<WebhookOutcome>([
  'malformed_json',
  'invalid_utf8',
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
  const log = deps.logger;
  const counts: IngressStats = {
    webhooksAccepted: 0,
    webhooksDuplicate: 0,
    webhooksValidated: 0,
    webhooksRejected: 0,
    webhooksUnavailable: 0,
  };

  let accepting = true;

  const app = express();
  // 'production' keeps express from putting stack traces in responses; errors are logged through pino below.
  app.set('env', 'production');
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, res, next) => {
    if (matchSecretEndpoint(req.url, 'webhook')) {
      res.set('allow', 'POST');
      return sendProblem(res, 405, 'method_not_allowed', 'the webhook endpoint only accepts POST');
    }
    if (isWebSocketEndpoint(req.url)) {
      res.set('upgrade', 'websocket');
      return sendProblem(res, 426, 'upgrade_required', 'this is a WebSocket endpoint: connect with ws:// (or wss://), not plain HTTP');
    }
    next();
  });
  const openApi = deps.openApi;
  if (openApi) app.use((req, res, next) => void (openApi(req, res) || next()));
  app.use((req, res) => sendProblem(res, 404, 'not_found', `no route for ${req.method} ${req.path}`));
  const onError: ErrorRequestHandler = (err: { status?: number }, _req, res, _next) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unexpected error handling request');
    if (!res.headersSent)
      sendProblem(res, status, status === 500 ? 'internal_error' : 'bad_request', status === 500 ? 'internal error' : 'bad request');
  };
  app.use(onError);

  async function serveWebhook(req: IncomingMessage, res: ServerResponse, secret: AppSecret | undefined): Promise<void> {
    if (secret === undefined) {
      req.resume();
      counts.webhooksRejected++;
      return sendProblem(
        res,
        400,
        'invalid_secret',
        'put the AppSecret in the URL: /webhook?secret=<AppSecret> or /webhook/<AppSecret> (6–128 of A-Z a-z 0-9 . _ ~ -)',
      );
    }
    if (!accepting) {
      req.resume();
      counts.webhooksUnavailable++;
      res.setHeader('retry-after', '5');
      return sendProblem(res, 503, 'shutting_down', 'this instance is shutting down; the platform will retry');
    }
    const read = await readBody(req, deps.maxBodyBytes);
    if (!read.ok) {
      counts.webhooksRejected++;
      log.warn({ bot: secret.tag, outcome: read.error, status: read.status }, 'webhook rejected');
      return sendProblem(res, read.status, read.error, read.message);
    }
    const startedMs = nowMs();
    const reply = await handleWebhook(
      {
        secret,
        rawBody: read.body,
        signatureTimestamp: header(req, 'x-signature-timestamp'),
        signature: header(req, 'x-signature-ed25519'),
      },
      { events: deps.events, signatureMaxSkewSec: deps.signatureMaxSkewSec, nowMs },
    );
    count(reply);
    // Only a verified event proves the secret is a bot's; op 13 and WebSocket connects are unauthenticated.
    if (reply.outcome === 'accepted') {
      deps.redactor.remember(secret.reveal());
      learn(header(req, 'x-bot-appid'), secret);
    }
    const level = REJECTIONS.has(reply.outcome) ? 'warn' : reply.outcome === 'bus_unavailable' ? 'error' : 'debug';
    if (log.isLevelEnabled(level)) {
      log[level](
        { bot: secret.tag, outcome: reply.outcome, status: reply.status, bytes: read.body.length, ms: nowMs() - startedMs },
        level === 'debug' ? 'webhook' : level === 'warn' ? 'webhook rejected' : 'webhook not stored: bus unavailable',
      );
    }
    send(res, reply);
  }

  /** appid:fingerprint → when it may be tried again (learning asks the platform, so it is rationed). */
  const learned = new Map<string, number>();
  let learnBudget = { windowStartMs: 0, used: 0 };
  const learn = (appid: string | undefined, secret: AppSecret) => {
    if (!deps.learnBot || !appid || !/^\d{1,20}$/.test(appid)) return;
    const key = `${appid}:${secret.tag}`;
    const now = nowMs();
    if ((learned.get(key) ?? 0) > now) return;
    // X-Bot-Appid is unsigned: at most LEARN_PER_MINUTE checks with the token service, whatever is claimed.
    if (now - learnBudget.windowStartMs >= 60_000) learnBudget = { windowStartMs: now, used: 0 };
    if (learnBudget.used >= LEARN_PER_MINUTE) return;
    learnBudget.used++;
    learned.delete(key);
    learned.set(key, Number.POSITIVE_INFINITY);
    if (learned.size > LEARNED_KEYS_MAX) learned.delete(learned.keys().next().value as string);
    deps.learnBot(appid, secret).then(
      (ok) => learned.set(key, ok ? Number.POSITIVE_INFINITY : nowMs() + LEARN_RETRY_MS),
      (err: unknown) => {
        learned.set(key, nowMs() + LEARN_RETRY_MS);
        log.warn({ appid, err }, 'could not record the bot for gateway mode');
      },
    );
  };

  const count = (reply: WebhookReply) => {
    if (reply.outcome === 'accepted') counts.webhooksAccepted++;
    else if (reply.outcome === 'duplicate') counts.webhooksDuplicate++;
    else if (reply.outcome === 'validated') counts.webhooksValidated++;
    else if (reply.outcome === 'bus_unavailable') counts.webhooksUnavailable++;
    else counts.webhooksRejected++;
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    const webhook = req.method === 'POST' ? matchSecretEndpoint(req.url ?? '/', 'webhook') : null;
    if (!webhook) return void app(req, res);
    serveWebhook(req, res, webhook.secret).catch((err: unknown) => {
      log.error({ err }, 'unexpected error handling webhook');
      if (!res.headersSent) sendProblem(res, 500, 'internal_error', 'internal error');
    });
  };

  return {
    handleRequest,
    app,
    notReadyReason: () => (!accepting ? 'shutting down' : deps.events.isReady() ? undefined : 'bus not ready'),
    stats: () => ({ ...counts }),
    close: () => {
      accepting = false;
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, reply: WebhookReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(reply.body);
}

function sendProblem(res: ServerResponse, status: number, error: string, message: string): void {
  sendJson(res, status, { error, message });
}
