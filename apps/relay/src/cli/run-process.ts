import { runCli } from './run-cli.ts';

/** Runs one command as this process's job: real stdout/stderr/env, and its status as the exit code. */
export function runCliProcess(argv: readonly string[]): void {
  runCli(argv, {
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
}
