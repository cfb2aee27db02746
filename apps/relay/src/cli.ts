import { runCliProcess } from './cli/run-process.ts';

/**
 * `pnpm hookway <command> …`: the operator's command line. Each command is one entry in cli/run-cli.ts; this file
 * only connects it to the process. (The built file, bin.ts, reaches the same table.)
 */
runCliProcess(process.argv.slice(2));
