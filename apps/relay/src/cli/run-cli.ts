import { CommandFailed, EXIT, UsageError, type CliCommand, type CliIo } from './command.ts';
import { checkCommand } from './check/check-command.ts';
import { keysCommand } from './keys-command.ts';

/** Every `pnpm hookway <command>`: one entry per command. */
export const COMMANDS: readonly CliCommand[] = [keysCommand, checkCommand];

export const HOOKWAY_HELP = `Usage: pnpm hookway <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)}${c.summary}`).join('\n')}

Settings come from the same environment variables as the relay (REDIS_URL, CLIENT_KEYS_FILE, BOTS, BOTS_FILE, …).
Exit status: 0 done, 1 could not be done, 2 bad usage or input.
`;

/**
 * Runs one command and resolves with the exit status. Problems are reported as `hookway <command>: <problem>` on
 * standard error (with a pointer to the command's --help for bad usage); nothing here exits the process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(HOOKWAY_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`hookway: unknown command ${name}\n\n${HOOKWAY_HELP}`);
    return EXIT.usage;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`hookway ${err.helpFor}: ${err.message}\n(see pnpm hookway ${err.helpFor} --help)\n`);
      return EXIT.usage;
    }
    if (err instanceof CommandFailed) {
      io.stderr(`hookway ${err.command ?? command.name}: ${err.message}\n`);
      return EXIT.failed;
    }
    io.stderr(`hookway ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  }
}
