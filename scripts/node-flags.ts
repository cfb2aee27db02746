/**
 * The node options every production start of Hookway uses, as NODE_OPTIONS (the Dockerfile's ENV, deploy/systemd's
 * Environment=, the README's start commands and 宝塔 steps) or as node arguments (deploy/pm2's node_args, the bench's
 * built-file start); apps/relay/test/deploy-recipes.test.ts checks that the recipes agree with this list.
 *
 * `--max-semi-space-size=4`: V8's young generation otherwise grows to 2 × 16 MiB under load (events held for the
 * history, a storm of connecting clients) and keeps that RSS; capped at 2 × 4 MiB it costs a little more CPU in
 * scavenges (docs/benchmarks.md, "Memory under load and per idle connection"). V8 reads it only when the process
 * starts (`v8.setFlagsFromString` cannot change it later), so it has to be on the command line or in NODE_OPTIONS,
 * which node 20 accepts it in.
 */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
