import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { historyLimits, MemoryEventLog } from '@hookway/bus';
import { AppSecret } from '@hookway/protocol';
import {
  AuthFailureThrottle,
  createLogger,
  createProxyTrust,
  createRedactor,
  defaultConfig,
  type Config,
  type Logger,
} from '@hookway/runtime';
import { lineSink, WebhookSender } from '@hookway/testkit';
import { createIngress, type Ingress, type IngressDeps } from '../src/index.ts';

export const SECRET = 'DG5g3B4j9X2KOErG';

export interface RunningIngress {
  readonly ingress: Ingress;
  readonly events: MemoryEventLog;
  readonly baseUrl: string;
  readonly port: number;
  /** Every line the ingress logged (trace level, through the redactor, as in production). */
  readonly logs: string[];
  sender(secret?: string): WebhookSender;
  /** The bodies the bus holds for a bot, in order: what the ingress accepted and published. */
  accepted(secret?: string): Promise<string[]>;
}

export interface IngressExtras {
  readonly nowMs?: () => number;
  /** Builds the OpenAPI handler with the ingress's own logger. */
  readonly openApi?: (logger: Logger) => NonNullable<IngressDeps['openApi']>;
  readonly learnBot?: IngressDeps['learnBot'];
  /** Told of op 13s and verified events (for raw clients' hello). */
  readonly botActivity?: IngressDeps['botActivity'];
  /** The bots of BOTS/BOTS_FILE, appid → secret, for the secretless `POST /webhook`. */
  readonly configured?: Readonly<Record<string, string>>;
  /** Checks signatures (the verify pool); inline when absent. Closed with the ingress. */
  readonly verifier?: IngressDeps['verifier'];
}

/**
 * `createIngress` alone, its `handleRequest` on a real node:http server on an ephemeral port, publishing on a real
 * in-memory bus and logging into memory. Call once at the top of a test file; everything started is torn down
 * after each test.
 */
export function ingressFixture() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const start = async (overrides: Partial<Config> = {}, extras: IngressExtras = {}): Promise<RunningIngress> => {
    const config = defaultConfig(overrides);
    const { stream, lines: logs } = lineSink();
    const redactor = createRedactor();
    const logger = createLogger({ level: 'trace', redactor, destination: stream });
    const events = new MemoryEventLog({ ...historyLimits(config), ...(extras.nowMs ? { nowMs: extras.nowMs } : {}) });
    const ingress = createIngress({
      events,
      logger,
      redactor,
      maxBodyBytes: config.maxBodyBytes,
      signatureMaxSkewSec: config.signatureMaxSkewSec,
      allowSecretInUrl: config.allowSecretInUrl,
      configuredSecret: (appid) => {
        const secret = Object.hasOwn(extras.configured ?? {}, appid) ? extras.configured?.[appid] : undefined;
        return secret === undefined ? undefined : AppSecret.of(secret);
      },
      trust: createProxyTrust(config.trustProxy),
      bodyBudgetBytes: config.webhookBodyBudgetBytes,
      authFailures: new AuthFailureThrottle(config.authFailuresPerMinute, extras.nowMs),
      ...(extras.nowMs ? { nowMs: extras.nowMs } : {}),
      ...(extras.openApi ? { openApi: extras.openApi(logger) } : {}),
      ...(extras.learnBot ? { learnBot: extras.learnBot } : {}),
      ...(extras.botActivity ? { botActivity: extras.botActivity } : {}),
      ...(extras.verifier ? { verifier: extras.verifier } : {}),
    });
    const server: Server = createServer(ingress.handleRequest);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await ingress.close();
      await events.close();
    });
    const { port } = server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    return {
      ingress,
      events,
      baseUrl,
      port,
      logs,
      sender: (secret = SECRET) => new WebhookSender(baseUrl, secret),
      accepted: async (secret = SECRET) => (await events.history(AppSecret.of(secret))).events.map((e) => e.body.toString('utf8')),
    };
  };

  return { start };
}
