import { runCli } from './cli/run-cli.ts';

/**
 * `pnpm hookway <command> …`: the operator's command line (client keys today). Each command is one entry in
 * cli/run-cli.ts; this file only connects it to the process.
 */
runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  nowMs: Date.now,
}).then(
  (status) => (process.exitCode = status),
  (err: unknown) => {
    process.stderr.write(`hookway: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
