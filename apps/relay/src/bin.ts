import { runGateway } from '@hookway/gateway';
import { runIngress } from '@hookway/ingress';
import { EXIT } from './cli/command.ts';
import { HOOKWAY_HELP, ROLES } from './cli/run-cli.ts';
import { runCliProcess } from './cli/run-process.ts';
import { runRelay } from './run-relay.ts';

/**
 * The entry point of the built file, dist/hookway.mjs (scripts/build.ts): `node dist/hookway.mjs [role]` serves,
 * anything else is a command of cli/run-cli.ts. The roles' own main.ts files stay the entry points of the pnpm scripts.
 */
const RUN: Record<(typeof ROLES)[number]['name'], () => void> = { relay: runRelay, ingress: runIngress, gateway: runGateway };

const [first, ...rest] = process.argv.slice(2);
const role = first === undefined ? 'relay' : ROLES.find((r) => r.name === first)?.name;
if (role !== undefined) {
  if (rest.length > 0) {
    process.stderr.write(`hookway ${role}: unexpected argument ${rest[0]}: a server takes its settings from environment variables\n`);
    process.exitCode = EXIT.usage;
  } else {
    RUN[role]();
  }
} else if (first === '--help' || first === '-h' || first === 'help') {
  process.stdout.write(HOOKWAY_HELP);
} else {
  runCliProcess(process.argv.slice(2));
}
