import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { isWebSocketEndpoint, matchSecretEndpoint, type AppSecret, type EndpointMatch } from '@hookway/protocol';
import type { ActivityNotes } from '@hookway/bots';
import type { EventPublisher } from '@hookway/bus';
import {
  sendJson,
  type AuthFailureThrottle,
  type HealthSource,
  type IngressMetrics,
  type Logger,
  type ProxyTrust,
  type Redactor,
} from '@hookway/runtime';
import { BodyBudget } from './body-budget.ts';
import { BotSequencer } from './bot-sequencer.ts';
import type { OpenApi, OpenApiStats } from './openapi.ts';
import { declaredLength, readBody } from './read-body.ts';
import { routeHint } from './routes.ts';
import { inlineVerifier, type DispatchVerifier } from './verifier.ts';
import { handleWebhook, type WebhookDeps, type WebhookOutcome, type WebhookReply } from './webhook.ts';

export interface IngressDeps {
  readonly events: EventPublisher;
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly maxBodyBytes: number;
  readonly signatureMaxSkewSec: number;
  /** ALLOW_SECRET_IN_URL: false refuses /webhook?secret= and /webhook/S with 403. */
  readonly allowSecretInUrl: boolean;
  /** The AppSecret of a bot configured with BOTS/BOTS_FILE: the secretless `POST /webhook` picks its bot by X-Bot-Appid. */
  readonly configuredSecret: (appid: string) => AppSecret | undefined;
  /** TRUST_PROXY: the client address of a request, for limits and logs. */
  readonly trust: ProxyTrust;
  /** WEBHOOK_BODY_BUDGET_BYTES. */
  readonly bodyBudgetBytes: number;
  /** Failed signatures per client address (AUTH_FAILURES_PER_MINUTE), shared with the gateway in the relay. */
  readonly authFailures: AuthFailureThrottle;
  readonly nowMs?: () => number;
  /** Serves the OpenAPI paths (gateway discovery and the pass-through). */
  readonly openApi?: OpenApi;
  /**
   * Told what happened, for the status page: verified events, op 13 validations and refusals (bots by their tag,
   * refusals by reason code and address — never a secret or a body).
   */
  readonly activity?: WebhookActivity;
  /** Told of every op 13 answered and every verified event, for raw clients' hello (a ThrottledActivity). */
  readonly botActivity?: ActivityNotes;
  /** Told appid → secret for a verified webhook that names its bot (X-Bot-Appid); resolves whether it was kept. */
  readonly learnBot?: (appid: string, secret: AppSecret) => Promise<boolean>;
  /** Where every webhook's outcome and publish time are counted (`GET /metrics`). */
  readonly metrics?: IngressMetrics;
  /**
   * Checks op 0 signatures (VERIFY_THREADS: the verify pool, or inline); inline when absent. The ingress owns it:
   * `close()` closes it once the signatures handed in are answered.
   */
  readonly verifier?: DispatchVerifier;
}

/** The status page's view of the ingress (packages/status's ActivityRecorder fits it). */
export interface WebhookActivity {
  verified(bot: string, type: string | undefined, appid: string | undefined): void;
  validated(bot: string): void;
  rejected(bot: string | undefined, reason: string, address: string): void;
}

export type IngressStats = {
  webhooksAccepted: number;
  webhooksDuplicate: number;
  webhooksValidated: number;
  /** `hookway check` test events (signed), delivered to the check's socket or not (no socket held the nonce). */
  webhookChecks: number;
  /** Bad input or failed verification (400, 401, 413, 415). */
  webhooksRejected: number;
  webhooksUnavailable: number;
  /** Secretless `POST /webhook` whose X-Bot-Appid names no configured bot (404). */
  webhooksUnknownBot: number;
  /** A secret in the URL with ALLOW_SECRET_IN_URL=false (403). */
  webhooksSecretInUrlRefused: number;
  /** Refused before the body because the client address failed authentication too often (429). */
  webhooksThrottled: number;
  /** Refused because the body budget (total or the client's share) was spent (503). */
  webhooksOverBudget: number;
  /** Bodies that never arrived whole: the peer went away or HTTP_BODY_TIMEOUT_MS cut it off. */
  webhooksAborted: number;
  /** Requests for no endpoint at all (404), typos of /webhook and /ws included. */
  requestsNotFound: number;
  /** Webhook body bytes held right now (WEBHOOK_BODY_BUDGET_BYTES is the limit). */
  webhookBodyBytesHeld: number;
} & Partial<OpenApiStats>;

export interface Ingress extends HealthSource {
  /**
   * The node:http request listener. `POST /webhook`, `POST /webhook?secret=S` and `POST /webhook/S` are served
   * directly (express's per-request cost alone is ~40 % of the bare ceiling on this path; see docs/ARCHITECTURE.md);
   * every other request goes to `app`.
   */
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** The express app for everything that is not a webhook POST: 405 on /webhook, the OpenAPI, JSON 404 elsewhere. */
  readonly app: Express;
  stats(): IngressStats;
  /**
   * Stops accepting events: webhooks get 503 so the platform retries them elsewhere or later. Resolves once the
   * signatures already being checked are answered (and published when good) and the verify pool has stopped.
   */
  close(): Promise<void>;
}

/** Learning a bot from X-Bot-Appid asks the token service: rationed, and retried after a failure. */
const LEARN_PER_MINUTE = 30;
const LEARN_RETRY_MS = 60_000;
const LEARNED_KEYS_MAX = 10_000;
/** Bots whose first op 13 was logged, at most this many per process (then the set starts again). */
const VALIDATED_BOTS_MAX = 10_000;
/** Refusals a flood can cause by the thousand are logged at most once per this long per kind, with their count. */
const FLOOD_LOG_INTERVAL_MS = 10_000;

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
  'invalid_check',
]);

const NOT_FOUND_MESSAGE =
  'no such endpoint: Hookway serves POST /webhook, WebSocket upgrades on /ws and /websocket, GET /healthz and /readyz, and the QQ OpenAPI (/v2/…, /channels/…, /guilds/…, /users/@me…, /dms/…, /interactions/…, /gateway, /app/getAppAccessToken)';
const SECRETLESS_SETUP =
  'configure the bot with BOTS=appid:secret (several: comma-separated) or a BOTS_FILE with one appid:secret per line, and restart Hookway';

export function createIngress(deps: IngressDeps): Ingress {
  const nowMs = deps.nowMs ?? Date.now;
  const log = deps.logger;
  const counts: IngressStats = {
    webhooksAccepted: 0,
    webhooksDuplicate: 0,
    webhooksValidated: 0,
    webhookChecks: 0,
    webhooksRejected: 0,
    webhooksUnavailable: 0,
    webhooksUnknownBot: 0,
    webhooksSecretInUrlRefused: 0,
    webhooksThrottled: 0,
    webhooksOverBudget: 0,
    webhooksAborted: 0,
    requestsNotFound: 0,
    webhookBodyBytesHeld: 0,
  };
  const budget = new BodyBudget(deps.bodyBudgetBytes, deps.maxBodyBytes);
  const throttle = deps.authFailures;
  const metrics = deps.metrics;
  const events = metrics ? timedPublisher(deps.events, metrics) : deps.events;
  const verifier = deps.verifier ?? inlineVerifier();
  const webhookDeps: WebhookDeps = {
    events,
    signatureMaxSkewSec: deps.signatureMaxSkewSec,
    nowMs,
    verifier,
    sequencer: new BotSequencer(),
  };
  /** Bots whose callback validation (op 13) this process has logged: the first one says the setup works. */
  const validatedBots = new Set<string>();

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
  if (openApi) app.use((req, res, next) => void (openApi.serve(req, res) || next()));
  app.use((req, res) => {
    counts.requestsNotFound++;
    // Never echo the path: a mistyped callback URL carries the AppSecret.
    sendProblem(res, 404, 'not_found', routeHint(pathOf(req.url)) ?? NOT_FOUND_MESSAGE);
  });
  const onError: ErrorRequestHandler = (err: { status?: number }, _req, res, _next) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err }, 'unexpected error handling request');
    if (!res.headersSent)
      sendProblem(res, status, status === 500 ? 'internal_error' : 'bad_request', status === 500 ? 'internal error' : 'bad request');
  };
  app.use(onError);

  /** Answers before the body is read, and closes the connection: a refused peer's body is never read. */
  const refuse = (
    res: ServerResponse,
    client: string,
    counter:
      | 'webhooksRejected'
      | 'webhooksUnavailable'
      | 'webhooksUnknownBot'
      | 'webhooksSecretInUrlRefused'
      | 'webhooksThrottled'
      | 'webhooksOverBudget',
    status: number,
    error: string,
    message: string,
    headers: Record<string, string> = {},
  ) => {
    counts[counter]++;
    // Refused before the bot is known (or trusted): these name no bot on the status page.
    if (counter !== 'webhooksUnavailable') deps.activity?.rejected(undefined, error, client);
    metrics?.webhook(error, undefined);
    sendJson(res, status, { error, message }, { connection: 'close', ...headers });
  };

  /** Which bot a webhook is for, or the refusal: the secret in the URL, or (secretless form) X-Bot-Appid among BOTS. */
  const pickBot = (
    req: IncomingMessage,
    res: ServerResponse,
    webhook: EndpointMatch,
    client: string,
  ): { secret: AppSecret; inUrl: boolean } | undefined => {
    if (webhook.secretIn !== undefined) {
      if (!deps.allowSecretInUrl) {
        floodWarn('secret_in_url_refused', { client });
        refuse(
          res,
          client,
          'webhooksSecretInUrlRefused',
          403,
          'secret_in_url_refused',
          `this Hookway does not accept the AppSecret in the URL (ALLOW_SECRET_IN_URL=false): set the callback URL to https://<your host>/webhook and ${SECRETLESS_SETUP}`,
        );
        return undefined;
      }
      if (webhook.secret === undefined) {
        refuse(
          res,
          client,
          'webhooksRejected',
          400,
          'invalid_secret',
          'the secret in the URL is not an AppSecret (6–128 of A-Z a-z 0-9 . _ ~ -); better still, use the callback URL https://<your host>/webhook with the bot in BOTS=appid:secret',
        );
        return undefined;
      }
      return { secret: webhook.secret, inUrl: true };
    }
    const appid = header(req, 'x-bot-appid')?.trim();
    const secret = appid && /^\d{1,20}$/.test(appid) ? deps.configuredSecret(appid) : undefined;
    if (secret) return { secret, inUrl: false };
    floodWarn('unknown_bot', { client, appid: appid && /^\d{1,20}$/.test(appid) ? appid : undefined });
    refuse(
      res,
      client,
      'webhooksUnknownBot',
      404,
      'unknown_bot',
      appid
        ? `no bot with this X-Bot-Appid is configured here: POST /webhook answers only the bots Hookway is configured with; ${SECRETLESS_SETUP}`
        : `POST /webhook picks the bot by the X-Bot-Appid header the platform sends, and this request has none; ${SECRETLESS_SETUP}`,
    );
    return undefined;
  };

  /** What the bot's hello will say was seen; the recorder never throws and holds back hot-path writes itself. */
  function recordActivity(secret: AppSecret, reply: WebhookReply): void {
    if (!deps.botActivity) return;
    if (reply.outcome === 'validated') deps.botActivity.validated(secret, nowMs());
    else if (reply.outcome === 'accepted' || reply.outcome === 'duplicate')
      deps.botActivity.verifiedEvent(secret, reply.eventType, nowMs());
  }

  async function serveWebhook(req: IncomingMessage, res: ServerResponse, webhook: EndpointMatch): Promise<void> {
    if (!accepting) {
      return refuse(res, '', 'webhooksUnavailable', 503, 'shutting_down', 'this instance is shutting down; the platform will retry', {
        'retry-after': '5',
      });
    }
    const client = deps.trust.clientAddress(req);
    const waitSec = throttle.retryAfterSec(client);
    if (waitSec !== undefined) {
      floodWarn('throttled', { client });
      return refuse(
        res,
        client,
        'webhooksThrottled',
        429,
        'too_many_auth_failures',
        `this address failed webhook authentication too often (AUTH_FAILURES_PER_MINUTE); try again in ${waitSec} s`,
        { 'retry-after': String(waitSec) },
      );
    }
    const bot = pickBot(req, res, webhook, client);
    if (!bot) return;
    const { secret } = bot;
    // The declared length is held before a byte of the body is read; a chunked body's hold grows as it arrives.
    const hold = budget.reserve(client, Math.min(declaredLength(req) ?? 0, deps.maxBodyBytes));
    if (!hold) {
      floodWarn('over_budget', { client });
      return refuse(
        res,
        client,
        'webhooksOverBudget',
        503,
        'over_budget',
        'too many webhook bodies are being read at once (WEBHOOK_BODY_BUDGET_BYTES); the platform will retry',
        { 'retry-after': '1' },
      );
    }
    try {
      const read = await readBody(req, deps.maxBodyBytes, hold);
      if (!read.ok) {
        metrics?.webhook(read.error === 'body_read_failed' ? 'aborted' : read.error, secret.tag);
        if (read.error === 'body_read_failed') {
          counts.webhooksAborted++;
          log.debug({ bot: secret.tag, client }, 'webhook body never arrived whole');
          if (!res.writable) return;
        } else if (read.error === 'over_budget') {
          counts.webhooksOverBudget++;
          floodWarn('over_budget', { client });
        } else {
          counts.webhooksRejected++;
          deps.activity?.rejected(secret.tag, read.error, client);
          log.warn({ bot: secret.tag, client, outcome: read.error, status: read.status }, 'webhook rejected');
        }
        return sendJson(res, read.status, { error: read.error, message: read.message }, { connection: 'close', ...read.headers });
      }
      const startedMs = nowMs();
      const handled = handleWebhook(
        {
          secret,
          rawBody: read.body,
          signatureTimestamp: header(req, 'x-signature-timestamp'),
          signature: header(req, 'x-signature-ed25519'),
        },
        webhookDeps,
      );
      const reply = handled instanceof Promise ? await handled : handled;
      count(reply);
      if (reply.outcome === 'verify_busy')
        floodWarn('verify_busy', { client }, 'webhook refused: the verify pool is full (VERIFY_THREADS)');
      observe(reply, secret, req, client);
      // A signature that does not verify is a failed authentication: past AUTH_FAILURES_PER_MINUTE, 429 before the body.
      if (reply.status === 401) throttle.recordFailure(client);
      // Only a verified event proves the secret is a bot's; op 13 and WebSocket connects are unauthenticated.
      if (reply.outcome === 'accepted' && bot.inUrl) {
        deps.redactor.remember(secret.reveal());
        learn(header(req, 'x-bot-appid'), secret);
      }
      const level = REJECTIONS.has(reply.outcome) ? 'warn' : reply.outcome === 'bus_unavailable' ? 'error' : 'debug';
      if (log.isLevelEnabled(level)) {
        log[level](
          {
            bot: secret.tag,
            ...(level === 'debug' ? {} : { client }),
            outcome: reply.outcome,
            status: reply.status,
            bytes: read.body.length,
            ms: nowMs() - startedMs,
          },
          level === 'debug' ? 'webhook' : level === 'warn' ? 'webhook rejected' : 'webhook not stored: bus unavailable',
        );
      }
      send(res, reply);
    } finally {
      hold.release();
    }
  }

  /**
   * Everyone told of a webhook's outcome, in one place: the status page, the bot's activity record (raw clients'
   * hello), the metrics and the newcomer's log line.
   */
  const observe = (reply: WebhookReply, secret: AppSecret, req: IncomingMessage, client: string) => {
    report(reply, secret, req, client);
    recordActivity(secret, reply);
    metrics?.webhook(reply.outcome, secret.tag);
    if (reply.outcome === 'validated') noteValidated(secret, header(req, 'x-bot-appid'));
  };

  /** The first op 13 per bot: the line a newcomer looks for after clicking 确定 on q.qq.com. */
  const noteValidated = (secret: AppSecret, appidHeader: string | undefined) => {
    if (validatedBots.has(secret.tag)) return;
    if (validatedBots.size >= VALIDATED_BOTS_MAX) validatedBots.clear();
    validatedBots.add(secret.tag);
    const appid = appidHeader?.trim();
    log.info(
      { bot: secret.tag, ...(appid && /^\d{1,20}$/.test(appid) ? { appid } : {}) },
      'callback validated — the platform will now send events',
    );
  };

  /** One warn line per kind per FLOOD_LOG_INTERVAL_MS, saying how many there were: a flood cannot flood the log. */
  const flood = new Map<string, { loggedAtMs: number; since: number }>();
  const floodWarn = (kind: string, fields: Record<string, unknown>, message = 'webhook refused before its body was read') => {
    const now = nowMs();
    const entry = flood.get(kind) ?? { loggedAtMs: Number.NEGATIVE_INFINITY, since: 0 };
    entry.since++;
    flood.set(kind, entry);
    if (now - entry.loggedAtMs < FLOOD_LOG_INTERVAL_MS) return;
    log.warn({ ...fields, outcome: kind, count: entry.since }, message);
    entry.loggedAtMs = now;
    entry.since = 0;
  };

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

  const report = (reply: WebhookReply, secret: AppSecret, req: IncomingMessage, client: string) => {
    const activity = deps.activity;
    if (!activity) return;
    if (reply.outcome === 'accepted') {
      // X-Bot-Appid is unsigned, but it came with a verified event: shown as the bot's appid, never trusted for more.
      const appid = header(req, 'x-bot-appid')?.trim();
      activity.verified(secret.tag, reply.eventType, appid && /^\d{1,20}$/.test(appid) ? appid : undefined);
    } else if (reply.outcome === 'validated') activity.validated(secret.tag);
    else if (REJECTIONS.has(reply.outcome)) activity.rejected(secret.tag, reply.outcome, client);
  };

  const count = (reply: WebhookReply) => {
    if (reply.outcome === 'accepted') counts.webhooksAccepted++;
    else if (reply.outcome === 'duplicate') counts.webhooksDuplicate++;
    else if (reply.outcome === 'validated') counts.webhooksValidated++;
    else if (reply.outcome === 'bus_unavailable' || reply.outcome === 'verify_busy' || reply.outcome === 'shutting_down')
      counts.webhooksUnavailable++;
    else if (reply.outcome === 'check_delivered' || reply.outcome === 'check_undelivered') counts.webhookChecks++;
    else counts.webhooksRejected++;
  };

  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    const webhook = req.method === 'POST' ? matchSecretEndpoint(req.url ?? '/', 'webhook') : null;
    if (!webhook) return void app(req, res);
    serveWebhook(req, res, webhook).catch((err: unknown) => {
      log.error({ err }, 'unexpected error handling webhook');
      if (!res.headersSent) sendProblem(res, 500, 'internal_error', 'internal error');
    });
  };

  return {
    handleRequest,
    app,
    notReadyReason: () => (!accepting ? 'shutting down' : deps.events.isReady() ? undefined : 'bus not ready'),
    stats: () => ({ ...counts, webhookBodyBytesHeld: budget.bytesHeld, ...openApi?.stats() }),
    close: async () => {
      accepting = false;
      await verifier.close();
    },
  };
}

/** The event log's publish, timed into the metrics. */
function timedPublisher(inner: EventPublisher, metrics: IngressMetrics): EventPublisher {
  // performance.now, not deps.nowMs: a test's fake clock must not make durations.
  const nowMs = () => performance.now();
  return {
    isReady: () => inner.isReady(),
    publishCheck: (nonce, body) => inner.publishCheck(nonce, body),
    // `then`, not an async wrapper: one promise and one microtask per event fewer.
    publish: (bot, event) => {
      const startedMs = nowMs();
      const failed = (err: unknown) => {
        metrics.published((nowMs() - startedMs) / 1000, 'failed');
        throw err;
      };
      let published;
      try {
        published = inner.publish(bot, event);
      } catch (err) {
        // A store that throws instead of rejecting is timed and counted like one that rejects.
        return Promise.reject(err instanceof Error ? err : new Error(String(err))).catch(failed);
      }
      return published.then((result) => {
        metrics.published((nowMs() - startedMs) / 1000, result.status);
        return result;
      }, failed);
    },
  };
}

/** The pathname of a request target (origin or absolute form), for the 404 hint. */
function pathOf(url: string): string {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * With its length given, node writes the answer in one piece: without it, `writeHead` then `end` sends a chunked body
 * (length line, body, terminator) beside the headers — more bytes and more buffers in the write, per webhook.
 */
function send(res: ServerResponse, reply: WebhookReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply.body), ...reply.headers });
  res.end(reply.body);
}

function sendProblem(res: ServerResponse, status: number, error: string, message: string): void {
  sendJson(res, status, { error, message });
}
