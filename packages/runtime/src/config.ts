import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every setting Hookway reads, from environment variables. Each has a default and a doc line; the README's
 * settings table is checked against this list by a test, so the two cannot drift.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a number' })
    .int({ error: 'expected a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** `appid:secret[,appid:secret…]` (commas or newlines). */
const botList = z.string().transform((text, ctx): ReadonlyMap<string, string> => {
  const bots = new Map<string, string>();
  const entries = text
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const match = /^(\d{1,20}):([A-Za-z0-9._~-]{6,128})$/.exec(entry);
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected appid:secret[,appid:secret…] (appid digits, secret 6–128 of A-Z a-z 0-9 . _ ~ -)',
      });
      return z.NEVER;
    }
    bots.set(match[1]!, match[2]!);
  }
  return bots;
});

const httpUrl = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { error: 'expected an http(s):// URL' })
  .transform((u) => u.replace(/\/+$/, ''));

/**
 * Who may tell us a client's address and the host it asked for (X-Forwarded-For/-Proto/-Host): `loopback`,
 * addresses and CIDR ranges, comma-separated; `none` trusts nobody.
 */
const proxyList = z
  .string()
  .trim()
  .transform((text, ctx): readonly string[] => {
    if (text === 'none') return [];
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const entry of entries) {
      if (entry === 'loopback' || isIP(entry) !== 0) continue;
      const [address, bits] = entry.split('/');
      const width = isIP(address ?? '') === 4 ? 32 : isIP(address ?? '') === 6 ? 128 : 0;
      if (width > 0 && /^\d{1,3}$/.test(bits ?? '') && Number(bits) <= width) continue;
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not loopback, an IP address or a CIDR range like 10.0.0.0/8` });
      return z.NEVER;
    }
    return entries;
  });

/** `host:port[,host:port…]` (Sentinel or Cluster seed nodes); empty: none. */
const hostPortList = z
  .string()
  .trim()
  .transform((text, ctx): readonly { host: string; port: number }[] => {
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const nodes: { host: string; port: number }[] = [];
    for (const entry of entries) {
      const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not host:port (e.g. 10.0.0.5:26379)` });
        return z.NEVER;
      }
      nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
    }
    return nodes;
  });

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'expected true or false' }))
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

interface Setting<T extends z.ZodType> {
  readonly schema: T;
  readonly default: string;
  readonly doc: string;
  /** The value may hold a credential: never repeat it in an error message. */
  readonly sensitive?: boolean;
}
const setting = <T extends z.ZodType>(schema: T, defaultValue: string, doc: string, sensitive = false): Setting<T> => ({
  schema,
  default: defaultValue,
  doc,
  sensitive,
});

export const SETTINGS = {
  PORT: setting(int(0, 65535), '8000', 'TCP port for HTTP (webhook, health) and WebSocket.'),
  HOST: setting(z.string().min(1, { error: 'must not be empty' }), '0.0.0.0', 'Address to listen on.'),
  LOG_LEVEL: setting(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    }),
    'info',
    'pino log level. Secrets are redacted at every level.',
  ),
  MAX_BODY_BYTES: setting(int(KiB, 64 * MiB), String(MiB), 'Largest webhook body accepted; larger bodies get 413.'),
  SIGNATURE_MAX_SKEW_SEC: setting(
    int(0, 7 * 24 * 3600),
    '300',
    'Reject op 0 webhooks whose X-Signature-Timestamp is further than this from now (replay protection). 0 disables the check.',
  ),
  VERIFY_THREADS: setting(
    z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(auto|\d{1,2})$/, { error: 'expected auto or a whole number of threads from 0 to 64' })
      .transform((v) => (v === 'auto' ? ('auto' as const) : Number(v)))
      .refine((v) => v === 'auto' || v <= 64, { error: 'expected auto or a whole number of threads from 0 to 64' }),
    'auto',
    'Threads that check webhook signatures (ed25519) beside the main thread, so one process uses every core; events stay in order per bot. auto: one fewer than the cores the process may use (taskset counts), none on one core; 0: on the main thread.',
  ),
  DEDUP_WINDOW_SEC: setting(
    int(1, 7 * 24 * 3600),
    '600',
    'How long a top-level event id is remembered; platform retries with the same id are acknowledged but not delivered again.',
  ),
  HISTORY_MAX_EVENTS: setting(int(1, 1_000_000), '10000', 'Events kept per bot for clients that connect later or resume with `after`.'),
  HISTORY_MAX_AGE_SEC: setting(
    int(1, 7 * 24 * 3600),
    '600',
    'How long an event is kept per bot (whichever of count and age is smaller wins).',
  ),
  HISTORY_MAX_BYTES: setting(
    int(64 * KiB, 4096 * MiB),
    String(64 * MiB),
    'Body bytes kept per bot, a memory guard against many large events. Must be at least MAX_BODY_BYTES.',
  ),
  WS_PING_INTERVAL_MS: setting(int(1000, 3600_000), '30000', 'How often the server pings every WebSocket client.'),
  WS_TERMINATE_UNRESPONSIVE: setting(
    bool,
    'true',
    'Terminate a client that has not answered the previous ping. Set false for clients that never answer pings (some 易语言 WebSocket modules).',
  ),
  WS_MAX_CLIENT_FRAME_BYTES: setting(
    int(128, 16 * MiB),
    String(64 * KiB),
    'Largest frame a client may send; larger frames close the socket with 1009.',
  ),
  WS_MAX_BUFFERED_BYTES: setting(
    int(16 * KiB, 1024 * MiB),
    String(MiB),
    'Per-client send buffer cap; a client that falls this far behind is closed with 4100 and can resume with `after`.',
  ),
  FANOUT_BACKLOG_MAX_BYTES: setting(
    int(16 * KiB, 1024 * MiB),
    String(MiB),
    'Event bytes one bot may have waiting to be written to its clients on one gateway; past it the fan-out is too slow, and the clients still waiting are closed with 4100 (raw) or 4009 (gateway) and resume from the history.',
  ),
  FANOUT_COALESCE_MS: setting(
    int(0, 1000),
    '15',
    'While events stream to a bot with many clients here (FANOUT_COALESCE_MIN_CLIENTS), its fan-out turns are at least this far apart, so each socket write carries the events of that window instead of one: less CPU per frame for up to this much latency. A first event after a pause goes at once, and so does the next turn of a bot whose clients took half this long or more to go round (that run already gathered what came meanwhile). 0: every event in its own turn.',
  ),
  FANOUT_COALESCE_MIN_CLIENTS: setting(
    int(1, 1_000_000),
    '32',
    'Clients of one bot on one gateway from which FANOUT_COALESCE_MS applies; bots with fewer clients are never delayed.',
  ),
  FANOUT_FRAMES_PER_TURN: setting(
    int(1, 1_000_000),
    '512',
    'Client writes the fan-out makes per event-loop turn before letting other work in (webhook acknowledgements, handshakes); lower interleaves sooner, higher schedules less.',
  ),
  TCP_KEEPALIVE_DELAY_MS: setting(int(1000, 3600_000), '30000', 'Idle time before TCP keepalive probes start on every socket.'),
  HEAP_GROWTH_PERCENT: setting(
    int(0, 400),
    '35',
    "How far V8 lets the old generation grow past what its last full collection kept before it collects again (V8's --heap-growing-percent, set at start-up). Lower keeps RSS closer to the live data for a little more GC work; 0 leaves it to V8 (up to 4×).",
  ),
  GC_CONCURRENT: setting(
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' })),
    'auto',
    "Whether V8's helper threads mark the heap and sweep its pages for a full collection while requests are served (V8's --concurrent-marking and --concurrent-sweeping, set at start-up). auto: only when the process may use more than one core (taskset counts) — on one core a helper takes the core from the event loop for several ms at a time; off: both in short steps on the main thread.",
  ),
  REDIS_URL: setting(
    z
      .string()
      .trim()
      .regex(/^(rediss?:\/\/.+)?$/, { error: 'expected redis://[:password@]host:port[/db] or rediss://…' }),
    '',
    'Redis for scale-out (redis://[:password@]host:port[/db], or rediss:// for TLS). Empty: `pnpm start` runs both roles on an in-process bus; `start:ingress` and `start:gateway` refuse to start without it.',
    true,
  ),
  REDIS_SENTINELS: setting(
    hostPortList,
    '',
    'Redis behind Sentinel: the sentinels as host:port,… (instead of REDIS_URL). Hookway asks them for the master of REDIS_SENTINEL_MASTER and follows failovers.',
  ),
  REDIS_SENTINEL_MASTER: setting(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected the master name the sentinels monitor (letters, digits, . _ -)' }),
    'mymaster',
    'With REDIS_SENTINELS: the name the sentinels monitor the master under (`sentinel monitor <name> …`).',
  ),
  REDIS_SENTINEL_PASSWORD: setting(
    z.string(),
    '',
    'With REDIS_SENTINELS: the sentinels’ own password (`requirepass` in sentinel.conf); empty: none.',
    true,
  ),
  REDIS_PASSWORD: setting(
    z.string(),
    '',
    'Password of the Redis servers with REDIS_SENTINELS or REDIS_CLUSTER_NODES (with REDIS_URL, put it in the URL). Empty: none.',
    true,
  ),
  REDIS_CLUSTER_NODES: setting(
    hostPortList,
    '',
    'Redis Cluster: some of its nodes as host:port,… (instead of REDIS_URL); the rest are discovered. Bot channels then use sharded pub/sub (SPUBLISH/SSUBSCRIBE on `qq:{<secret>}`).',
  ),
  REDIS_MIN_REPLICAS_ACKED: setting(
    int(0, 16),
    '0',
    'A webhook is acknowledged only after this many Redis replicas hold the event (WAIT), else 503 so the platform retries; /readyz is 503 while a master has fewer online replicas. 0: acknowledge once the master stored it (a failover can lose the last writes).',
  ),
  REDIS_WAIT_TIMEOUT_MS: setting(
    int(10, 60_000),
    '500',
    'With REDIS_MIN_REPLICAS_ACKED: how long a webhook waits for the replicas to confirm before it answers 503. Below REDIS_COMMAND_TIMEOUT_MS.',
  ),
  REDIS_COMMAND_TIMEOUT_MS: setting(
    int(100, 60_000),
    '2000',
    'A Redis command slower than this fails; the webhook then gets 503 and the platform retries.',
  ),
  REDIS_PROBE_INTERVAL_MS: setting(
    int(500, 600_000),
    '15000',
    'A gateway whose Redis subscriber has been silent this long publishes a probe to itself; if the probe is not heard within one more interval the subscriber reconnects and every bot feed resyncs from history.',
  ),
  SHUTDOWN_DRAIN_MS: setting(
    int(0, 60_000),
    '0',
    'On SIGTERM, how long /readyz answers 503 before clients are closed, so a load balancer stops sending new ones here. Set it to about two health-check intervals behind a load balancer.',
  ),
  SHUTDOWN_CLOSE_BATCH: setting(
    int(1, 100_000),
    '200',
    'On shutdown, clients are closed with 1001 this many at a time, so they do not all reconnect to the other replicas at once.',
  ),
  SHUTDOWN_BATCH_INTERVAL_MS: setting(int(0, 10_000), '100', 'Pause between two shutdown batches.'),
  BOTS: setting(
    botList,
    '',
    'Bots Hookway knows for gateway mode, as appid:secret[,appid:secret…]. Bots are also learned from verified webhooks (X-Bot-Appid). Needed for SDKs that authenticate with an access token.',
    true,
  ),
  BOTS_FILE: setting(z.string().trim(), '', 'A file with more appid:secret entries (one per line or comma-separated), read at start-up.'),
  QQ_API_BASE: setting(
    httpUrl,
    'https://api.sgroup.qq.com',
    'Upstream OpenAPI that SDK calls through Hookway are forwarded to (https://sandbox.api.sgroup.qq.com for the sandbox).',
  ),
  QQ_TOKEN_URL: setting(
    httpUrl,
    'https://bots.qq.com/app/getAppAccessToken',
    'Where access tokens come from; /app/getAppAccessToken through Hookway is forwarded here.',
  ),
  PUBLIC_URL: setting(
    z.union([z.literal(''), httpUrl]),
    '',
    'How clients reach this Hookway (e.g. https://bot.example.com), for the url in GET /gateway. Empty: derived from the request (X-Forwarded-Proto/Host behind a proxy).',
  ),
  GATEWAY_INTENTS: setting(
    z.enum(['strict', 'all'], { error: 'expected strict or all' }),
    'strict',
    'strict: a gateway-mode client gets only the events its Identify intents ask for, as on the platform; all: every event (some SDK defaults leave group/C2C off).',
  ),
  GATEWAY_HEARTBEAT_INTERVAL_MS: setting(int(1000, 600_000), '41250', 'The heartbeat_interval announced in Hello.'),
  GATEWAY_IDENTIFY_TIMEOUT_MS: setting(
    int(0, 24 * 3600_000),
    '0',
    'Close a gateway-mode socket that has not identified after this long (4003); 0 never does. Leave it 0 unless you must: qq-official-bot keeps an idle second socket whose closing tears down its live one, and dead peers are found by pings anyway.',
  ),
  GATEWAY_CLOSE_GRACE_MS: setting(
    int(0, 60_000),
    '1000',
    'After op 7 or op 9, how long before the server closes the socket itself (4009 or 4006).',
  ),
  GATEWAY_SESSION_TTL_SEC: setting(
    int(10, 7 * 24 * 3600),
    '600',
    'How long a gateway session can still be resumed after its connection ends.',
  ),
  ALLOW_SECRET_IN_URL: setting(
    bool,
    'true',
    'Accept the AppSecret in URLs (/webhook?secret=, /webhook/S, /ws?secret=, /ws/S, /websocket?secret=), as the original relay did. Set false on anything reachable from the internet: those forms then get 403 naming the replacement (POST /webhook with BOTS, client keys).',
  ),
  CLIENT_KEYS_FILE: setting(
    z.string().trim(),
    'hookway-keys.json',
    'Where client keys (hashes only) are kept without Redis; `hookway keys …` writes it and running relays pick up changes. With REDIS_URL the keys live in Redis instead.',
  ),
  OPENAPI_PROXY: setting(
    bool,
    'true',
    'Forward the QQ OpenAPI (/v2/…, /channels/…, the token path, …) to QQ_API_BASE for SDKs and key holders. false: Hookway forwards nothing (raw-mode-only deployments).',
  ),
  OPENAPI_TIMEOUT_MS: setting(
    int(1000, 600_000),
    '30000',
    "How long an OpenAPI call Hookway forwards (a raw client's call frame, an HTTP request through the pass-through) may wait for the platform; then upstream_timeout / 502.",
  ),
  RAW_CALLS_IN_FLIGHT_MAX: setting(
    int(1, 1000),
    '8',
    'Call frames one raw connection may have waiting for the platform at once; more are answered too_many_calls at once.',
  ),
  TRUST_PROXY: setting(
    proxyList,
    'loopback',
    'Addresses whose X-Forwarded-For/-Proto/-Host are believed (loopback, IPs, CIDR ranges, comma-separated; none: nobody). Client addresses in logs, limits and the status page come from the same rule.',
  ),
  MAX_CONNECTIONS: setting(
    int(16, 1_000_000),
    '10000',
    'Open TCP connections (HTTP and WebSocket) one process accepts; further ones are refused at once.',
  ),
  WEBHOOK_BODY_BUDGET_BYTES: setting(
    int(64 * KiB, 4096 * MiB),
    String(32 * MiB),
    'Webhook body bytes being read at once across all requests; past it a webhook gets 503 with Retry-After (the platform retries). One client address (one /64 for IPv6) may hold at most an eighth of it (never less than MAX_BODY_BYTES), so one sender cannot starve the others. At least MAX_BODY_BYTES.',
  ),
  HTTP_HEADERS_TIMEOUT_MS: setting(
    int(500, 600_000),
    '5000',
    'A request whose headers have not all arrived after this long is dropped (408). At most HTTP_BODY_TIMEOUT_MS.',
  ),
  HTTP_BODY_TIMEOUT_MS: setting(
    int(500, 600_000),
    '10000',
    'A request whose body has not fully arrived after this long from its start is dropped (408), freeing its share of the body budget.',
  ),
  AUTH_FAILURES_PER_MINUTE: setting(
    int(1, 100_000),
    '30',
    'Failed authentications (bad key, forged token, bad signature) one client address may make per minute; past it the answer is 429 with Retry-After, at almost no cost.',
  ),
  ADMIN_TOKEN: setting(
    z.union([
      z.literal(''),
      z
        .string()
        .trim()
        .regex(/^[\x21-\x7e]{16,256}$/, { error: 'expected 16–256 printable ASCII characters without spaces (e.g. openssl rand -hex 24)' }),
    ]),
    '',
    'The token that opens the status page (GET /status: a login form; GET /status/data also takes Authorization: Bearer). Empty: the page is off (404). At least 16 characters; keep it secret like a password.',
    true,
  ),
  STATUS_REPORT_INTERVAL_MS: setting(
    int(200, 60_000),
    '5000',
    'How often each process writes its status report (Redis when REDIS_URL is set); a report not renewed for three intervals disappears from the status page.',
  ),
  METRICS_TOKEN: setting(
    z
      .string()
      .trim()
      .regex(/^([\x21-\x7e]{16,256})?$/, { error: 'expected 16–256 printable characters without spaces (e.g. openssl rand -hex 24)' }),
    '',
    'When set, GET /metrics needs Authorization: Bearer <this token>; empty: /metrics answers only requests from this machine (not through a proxy).',
    true,
  ),
  SHUTDOWN_TIMEOUT_MS: setting(
    int(1000, 600_000),
    '9000',
    'On SIGTERM/SIGINT, the deadline for closing clients and flushing; past it the process exits 1. Below 10 s so that even a stuck close ends within 10 s.',
  ),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** `MAX_BODY_BYTES` → `maxBodyBytes`: each setting's name in the typed Config. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

/** The validated settings, one property per environment variable (derived, so none can be forgotten). */
export type Config = {
  -readonly [K in SettingName as CamelCase<K>]: z.infer<(typeof SETTINGS)[K]['schema']>;
};

function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Settings that were renamed: set under the old name, start-up stops and names the new one. Silently ignoring the
 * old name would change what the operator asked for without a word.
 */
const RENAMED_SETTINGS: Readonly<Record<string, { readonly to: SettingName; readonly why: string }>> = {
  GC_CONCURRENT_MARKING: { to: 'GC_CONCURRENT', why: 'it now covers concurrent sweeping as well as marking' },
};

/** Reads and validates every setting; collects all problems so one start-up attempt reports them all. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Setting<z.ZodType>][]) {
    const raw = env[name];
    const given = raw !== undefined && raw.trim() !== '';
    const result = s.schema.safeParse(given ? raw : s.default);
    if (result.success) values[camelCase(name)] = result.data;
    else {
      const shown = s.sensitive ? '(value hidden)' : JSON.stringify(raw);
      problems.push(`${name}=${shown}: ${result.error.issues.map((i) => i.message).join('; ')}`);
    }
  }
  for (const [name, { to, why }] of Object.entries(RENAMED_SETTINGS)) {
    if (env[name] !== undefined) problems.push(`${name}: renamed ${to} (${why}); set ${to} instead`);
  }
  const config = values as Config;
  if (problems.length === 0 && config.historyMaxBytes < config.maxBodyBytes) {
    problems.push(
      `HISTORY_MAX_BYTES=${config.historyMaxBytes}: must be at least MAX_BODY_BYTES (${config.maxBodyBytes}), or a maximal event could never be kept`,
    );
  }
  if (problems.length === 0 && config.webhookBodyBudgetBytes < config.maxBodyBytes) {
    problems.push(
      `WEBHOOK_BODY_BUDGET_BYTES=${config.webhookBodyBudgetBytes}: must be at least MAX_BODY_BYTES (${config.maxBodyBytes}), or a maximal webhook could never be read`,
    );
  }
  if (problems.length === 0 && config.httpHeadersTimeoutMs > config.httpBodyTimeoutMs) {
    problems.push(
      `HTTP_HEADERS_TIMEOUT_MS=${config.httpHeadersTimeoutMs}: must not exceed HTTP_BODY_TIMEOUT_MS (${config.httpBodyTimeoutMs}), which counts from the same start and includes the headers`,
    );
  }
  if (problems.length === 0) problems.push(...redisProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Which Redis the settings name: none (in-process memory), one server, a Sentinel-managed master or a Cluster. */
export function redisMode(config: Config): 'none' | 'single' | 'sentinel' | 'cluster' {
  if (config.redisSentinels.length > 0) return 'sentinel';
  if (config.redisClusterNodes.length > 0) return 'cluster';
  return config.redisUrl !== '' ? 'single' : 'none';
}

/** At most one Redis form, and the replica settings only where they can hold. */
function redisProblems(config: Config): string[] {
  const chosen = [
    config.redisUrl !== '' ? 'REDIS_URL' : '',
    config.redisSentinels.length > 0 ? 'REDIS_SENTINELS' : '',
    config.redisClusterNodes.length > 0 ? 'REDIS_CLUSTER_NODES' : '',
  ].filter(Boolean);
  const problems: string[] = [];
  if (chosen.length > 1) {
    problems.push(`${chosen.join(', ')} are set together: choose one Redis (one server, Sentinel or Cluster)`);
  }
  if (chosen.length === 0 && config.redisMinReplicasAcked > 0) {
    problems.push(
      `REDIS_MIN_REPLICAS_ACKED=${config.redisMinReplicasAcked}: needs Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)`,
    );
  }
  if (config.redisMinReplicasAcked > 0 && config.redisWaitTimeoutMs >= config.redisCommandTimeoutMs) {
    problems.push(
      `REDIS_WAIT_TIMEOUT_MS=${config.redisWaitTimeoutMs}: must be below REDIS_COMMAND_TIMEOUT_MS (${config.redisCommandTimeoutMs}), or every replicated write would time out first`,
    );
  }
  return problems;
}

/** The defaults, as a Config (for tests and embedding). */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
