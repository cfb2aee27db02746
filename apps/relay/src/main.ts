import { once } from 'node:events';
import { ConfigError, createLogger, createRedactor, loadConfig } from '@hookway/runtime';
import { createRelay } from './create-relay.ts';

/** The embedded relay: `pnpm start`. The only place that listens on a port or handles signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookway: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const redactor = createRedactor();
  const logger = createLogger({ level: config.logLevel, redactor });
  const relay = createRelay({ config, logger, redactor });

  relay.server.listen(config.port, config.host);
  try {
    await once(relay.server, 'listening');
  } catch (err) {
    logger.fatal({ err }, `cannot listen on ${config.host}:${config.port}`);
    process.exit(1);
  }
  const address = relay.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, mode: 'embedded' }, `Hookway listening on http://${config.host}:${port}`);

  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    const clean = await relay.close(config.shutdownTimeoutMs);
    logger.info({ clean }, 'stopped');
    logger.flush();
    process.exit(clean ? exitCode : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    void stop('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    void stop('unhandledRejection', 1);
  });
}

void main();
