import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command reads its settings and writes its output (a real process: process.env, stdout, stderr). */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  /** What the command produces (a key, a table). */
  readonly stdout: (text: string) => void;
  /** Everything said to the person at the terminal: confirmations, hints, warnings, errors. */
  readonly stderr: (text: string) => void;
  readonly nowMs: () => number;
}

/** One `pnpm hookway <name> …` command; `cli.ts` dispatches to it. */
export interface CliCommand {
  readonly name: string;
  /** One line for `pnpm hookway --help`. */
  readonly summary: string;
  /** Resolves with the exit status. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Exit statuses: 0 done, 1 could not be done (the store, a taken or unknown name), 2 bad usage or input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Bad usage or input: the message names the problem; the exit status is 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help explains it, e.g. `keys add`. */
    readonly helpFor: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not do what was asked; the exit status is 1. */
export class CommandFailed extends Error {
  constructor(
    message: string,
    /** The command that failed, e.g. `keys add`, when more precise than the top-level one. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'CommandFailed';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its errors turned into short messages naming the option. */
export function parseCommandArgs<O extends Options>(args: readonly string[], options: O, command: string, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const option = /'(-{1,2}[^' ]+)/.exec(e.message ?? '')?.[1];
    const argument = /argument '([^']*)'/.exec(e.message ?? '')?.[1];
    const message =
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown option ${option ?? ''}`.trim()
        : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? `${option ?? 'an option'} needs a value`
          : e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
            ? `unexpected argument ${argument ?? ''}`.trim()
            : (e.message ?? String(err));
    throw new UsageError(message, command);
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument ${parsed.positionals[positionals]}`, command);
  }
  return parsed;
}
