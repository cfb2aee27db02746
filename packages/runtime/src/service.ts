import { once } from 'node:events';
import type { Server } from 'node:http';
import { ConfigError, loadConfig, redisMode, type Config } from './config.ts';
import { applyGcSettings } from './gc-tuning.ts';
import { applyHttpLimits, httpLimits } from './http-service.ts';
import { createLogger, type Logger } from './logger.ts';
import { startedByPackageManager, watchParent } from './parent-watch.ts';
import { createRedactor, type Redactor } from './redact.ts';

export interface ServiceContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly redactor: Redactor;
}

export interface Service {
  /** Not listening yet; `runService` listens on PORT/HOST. */
  readonly server: Server;
  /** Shuts everything down within the deadline; resolves true when it all closed in time. */
  close(deadlineMs: number): Promise<boolean>;
}

/**
 * The shared `main` of every Hookway process: read and validate the settings (a bad one stops start-up with a
 * message naming it), build the service, listen, and turn SIGTERM/SIGINT into a graceful shutdown and exit.
 * This is the only place a port is bound or a signal handled.
 */
export function runService(role: string, build: (context: ServiceContext) => Promise<Service>): void {
  serve(role, build).catch((err: unknown) => {
    process.stderr.write(`hookway ${role}: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

async function serve(role: string, build: (context: ServiceContext) => Promise<Service>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookway ${role}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // First thing after the settings: V8 reads these from its next collection on (before any full one has begun).
  applyGcSettings(config);
  const redactor = createRedactor();
  rememberUrlPassword(redactor, config.redisUrl);
  if (config.adminToken !== '') redactor.remember(config.adminToken);
  if (config.metricsToken !== '') redactor.remember(config.metricsToken);
  for (const password of [config.redisPassword, config.redisSentinelPassword]) if (password !== '') redactor.remember(password);
  const logger = createLogger({ level: config.logLevel, redactor }).child({ role });

  let service: Service;
  try {
    service = await build({ config, logger, redactor });
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    process.exit(1);
  }
  // Every role's server, whoever built it, gets this process's timeouts and connection cap.
  applyHttpLimits(service.server, httpLimits(config));
  service.server.listen(config.port, config.host);
  try {
    await once(service.server, 'listening');
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${config.host}:${config.port}`);
    process.exit(1);
  }
  const address = service.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { host: config.host, port, redis: redisMode(config) !== 'none' },
    `Hookway ${role} listening on http://${config.host}:${port}`,
  );

  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    let clean = false;
    try {
      clean = await service.close(config.shutdownTimeoutMs);
    } catch (err) {
      // Without this the process would stay up, half closed, because `stopping` refuses a second attempt.
      logger.error({ err }, 'shutdown failed');
    }
    logger.info({ clean }, 'stopped');
    logger.flush();
    process.exit(clean ? exitCode : 1);
  };
  const stopOn = (reason: string, exitCode: number) => () => {
    stop(reason, exitCode).catch(() => process.exit(1));
  };
  process.on('SIGTERM', stopOn('SIGTERM', 0));
  process.on('SIGINT', stopOn('SIGINT', 0));
  if (startedByPackageManager(process.env)) {
    // `kill -TERM <pid of pnpm start>` must stop the server too (parent-watch.ts says why a signal cannot).
    watchParent({
      intervalMs: PARENT_POLL_MS,
      onGone: (formerParentPid) => stopOn(`parent process ${formerParentPid} exited`, 0)(),
    });
  }
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    stopOn('uncaughtException', 1)();
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    stopOn('unhandledRejection', 1)();
  });
}

/** How soon a server started by `pnpm start` notices that pnpm was stopped: well inside any shutdown deadline. */
const PARENT_POLL_MS = 500;

/** A password in REDIS_URL is a secret too: make sure no log line ever carries it. */
function rememberUrlPassword(redactor: Redactor, url: string): void {
  if (url === '') return;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') redactor.remember(password);
  } catch {
    // The config schema already checked the shape.
  }
}

/** Refuses to start a role that needs Redis without REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
export function requireRedis(role: string, config: Config): void {
  if (redisMode(config) === 'none') {
    process.stderr.write(
      `hookway ${role}: REDIS_URL is required: the ${role} role talks to the other replicas only through Redis. ` +
        'Set REDIS_URL=redis://host:6379 (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES), or run the single-process relay (`pnpm start`, `node dist/hookway.mjs`).\n',
    );
    process.exit(1);
  }
}
