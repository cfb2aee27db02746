import { CommandFailed, EXIT, UsageError, type CliCommand, type CliIo } from './command.ts';
import { BUNDLED, HOOKWAY, hookwayCommand } from './invocation.ts';
import { checkCommand } from './check/check-command.ts';
import { keysCommand } from './keys-command.ts';

/** Every `pnpm hookway <command>`: one entry per command. */
export const COMMANDS: readonly CliCommand[] = [keysCommand, checkCommand];

/** The servers, named as the built file takes them (`node dist/hookway.mjs gateway`) and as pnpm scripts. */
export const ROLES = [
  {
    name: 'relay',
    script: 'start',
    summary: 'the default: webhooks and WebSocket clients in one process (embedded, or Redis with REDIS_URL)',
  },
  { name: 'ingress', script: 'start:ingress', summary: 'webhooks only, published through Redis (REDIS_URL required)' },
  { name: 'gateway', script: 'start:gateway', summary: 'WebSocket clients only, fed through Redis (REDIS_URL required)' },
] as const;

/** `--help` of the built file (roles and commands) or of `pnpm hookway` (commands, and the pnpm scripts that serve). */
export function hookwayHelp(bundled: boolean): string {
  const command = hookwayCommand(bundled);
  const roles = bundled
    ? `Usage: ${command} [role]            serve until SIGTERM (no role: relay)
       ${command} <command> [options]

Roles:
${ROLES.map((r) => `  ${r.name.padEnd(10)}${r.summary}`).join('\n')}
`
    : `Usage: ${command} <command> [options]

Servers: ${ROLES.map((r) => `pnpm ${r.script}`).join(', ')} (${ROLES.map((r) => r.name).join(', ')}).
`;
  return `${roles}
Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}

Settings come from environment variables (PORT, REDIS_URL, BOTS, BOTS_FILE, CLIENT_KEYS_FILE, …; see README).
Exit status: 0 done, 1 could not be done, 2 bad usage or input.
`;
}

export const HOOKWAY_HELP = hookwayHelp(BUNDLED);

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
      io.stderr(`hookway ${err.helpFor}: ${err.message}\n(see ${HOOKWAY} ${err.helpFor} --help)\n`);
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
