import pino, { type DestinationStream, type Logger } from 'pino';
import type { Redactor } from './redact.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  readonly redactor: Redactor;
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

/** pino JSON logs whose every line passes through the redactor just before it is written. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name ?? 'hookway',
      level: options.level,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (line) => options.redactor.redact(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
