/**
 * The node options every production start of Hookway uses, as NODE_OPTIONS (the Dockerfile's ENV, deploy/systemd's
 * Environment=, the README's start commands and 宝塔 steps) or as node arguments (deploy/pm2's node_args, the bench's
 * built-file start); apps/relay/test/deploy-recipes.test.ts checks that the recipes agree with this list.
 *
 * `--max-semi-space-size=2`: V8's young generation otherwise grows to 2 × 16 MiB under load (events held for the
 * history, a storm of connecting clients) and keeps that RSS. Capped at 2 × 4 MiB it cost a little more CPU in
 * scavenges (docs/benchmarks.md, "Memory under load and per idle connection"); 2 × 2 MiB took 6–8 MiB more off the
 * RSS after load and ~1 KiB off each of 2 000 idle connections, with no CPU cost the bench could tell from 4 (GC
 * 6.4 / 7.1 against 6.1 / 7.2 µs per event in profiles; docs/benchmarks.md, "fifteenth pass"). V8 reads it only
 * when the process starts (`v8.setFlagsFromString` cannot change it later), so it has to be on the command line or
 * in NODE_OPTIONS, which node 20 accepts it in.
 */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * The ingress role's own node options, on its command line (docker-compose's ingress services; the systemd unit's and
 * pm2's notes for a split deployment; the bench's split ingress). The command line comes after NODE_OPTIONS and node
 * takes the last of a flag given twice, so these override PRODUCTION_NODE_FLAGS for the ingress alone.
 *
 * `--max-semi-space-size=4`: the ingress keeps nothing between requests, but holds each one (its HTTP objects, its
 * publish batch) across a Redis round trip, so every scavenge of the young generation copies the requests in flight.
 * At 2 × 2 MiB it scavenges twice as often as at 2 × 4 for the same copies: 4–7 µs more GC per event, against
 * nothing it would save (docs/benchmarks.md, "fifteenth pass").
 */
export const INGRESS_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * The environment every production start of Hookway sets beside the node options (the same recipes; the bench's
 * built-file start too).
 *
 * `MALLOC_ARENA_MAX=1`: glibc gives each thread that allocates its own malloc arena. V8's optimising compiler runs on
 * node's four platform threads, and the memory of each compilation (its zone, up to a few MiB) goes back to that
 * thread's arena, which keeps the pages: once the hot code of a server is compiled (the first load, the first storm
 * of connecting clients), four arenas hold ~5–7 MiB of freed compiler memory for good, a third of what 2 000 idle
 * clients cost in the bench (docs/benchmarks.md, "Idle connections: where the RSS goes"). With one arena every
 * thread reuses the same freed memory. glibc reads it only when the process starts; musl (Alpine) ignores it.
 */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };
