import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLogger, createRedactor, defaultConfig, type Config } from '@hookway/runtime';
import { afterEach } from 'vitest';
import type WebSocket from 'ws';
import { lineSink, WebhookSender, WsCollector } from '@hookway/testkit';
import { createRelay, memoryStores, type Relay, type RelayStores } from '../src/index.ts';

export const SECRET = 'DG5g3B4j9X2KOErG';

export interface RunningRelay {
  readonly relay: Relay;
  readonly baseUrl: string;
  readonly logs: string[];
  wsUrl(pathAndQuery: string): string;
  sender(secret?: string): WebhookSender;
  close(): Promise<void>;
}

/** A real relay on an ephemeral port, logging at trace level into memory. */
export async function startRelay(
  overrides: Partial<Config> = {},
  extra: { stores?: RelayStores; nowMs?: () => number; port?: number } = {},
): Promise<RunningRelay> {
  const { stream: sink, lines: logs } = lineSink();
  const redactor = createRedactor();
  const logger = createLogger({ level: 'trace', redactor, destination: sink });
  // The OpenAPI pass-through points at a closed local port unless a test brings a fake platform.
  const config = defaultConfig({
    port: 0,
    host: '127.0.0.1',
    qqApiBase: 'http://127.0.0.1:9',
    qqTokenUrl: 'http://127.0.0.1:9/app/getAppAccessToken',
    ...overrides,
  });
  const { port: listenPort = 0, ...deps } = extra;
  const relay = createRelay({ config, logger, redactor, ...deps });
  relay.server.listen(listenPort, '127.0.0.1');
  await once(relay.server, 'listening');
  const { port } = relay.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    relay,
    baseUrl,
    logs,
    wsUrl: (p) => `ws://127.0.0.1:${port}${p}`,
    sender: (secret = SECRET) => new WebhookSender(baseUrl, secret),
    close: async () => {
      await relay.close(5000);
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In-process stores with roomy limits, for tests that share them between relays (another instance, same data). */
export const testStores = (): RelayStores =>
  memoryStores(defaultConfig({ historyMaxEvents: 1000, historyMaxAgeSec: 600, historyMaxBytes: 1 << 24, dedupWindowSec: 600 }));

/**
 * Per-test relays and clients that are torn down after each test: `start` a relay, `connect` clients to it.
 * Call once at the top of a test file.
 */
export function relayFixture() {
  let running: RunningRelay | undefined;
  const clients: WsCollector[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    await running?.close();
    running = undefined;
  });
  return {
    start: async (...args: Parameters<typeof startRelay>) => (running = await startRelay(...args)),
    connect: async (r: RunningRelay, path: string, options?: WebSocket.ClientOptions) => {
      const c = await WsCollector.connect(r.wsUrl(path), options);
      clients.push(c);
      return c;
    },
    /** Registers a client created by hand so it is torn down too. */
    track: (c: WsCollector) => void clients.push(c),
  };
}
