// pm2 recipe for Hookway (tested by apps/relay/test/deploy-recipes.test.ts with a real pm2).
//   pnpm install && pnpm build                       # once per upgrade: writes dist/hookway.mjs
//   pm2 start deploy/pm2/ecosystem.config.cjs        # from anywhere: paths are relative to this file
//   pm2 logs hookway | pm2 restart hookway | pm2 stop hookway | pm2 save && pm2 startup (start at boot)
// Settings are Hookway's environment variables (README: settings table). Values already in the environment of
// `pm2 start` win over the examples below, e.g. `PORT=9000 pm2 start deploy/pm2/ecosystem.config.cjs`.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const env = (name, fallback) => process.env[name] ?? fallback;

module.exports = {
  apps: [
    {
      name: 'hookway',
      cwd: ROOT,
      // The built file alone: plain node, no tsx, no node_modules at run time. `args: 'ingress'` / `'gateway'`
      // run the split roles (both need REDIS_URL); copy this entry once per role.
      script: 'dist/hookway.mjs',
      interpreter: 'node',
      // V8's young generation capped at 2 × 2 MiB: less RSS under load and per idle connection (scripts/node-flags.ts).
      // The ingress's entry: ['--max-semi-space-size=4'] (it holds requests across a Redis round trip, same file).
      node_args: ['--max-semi-space-size=2'],
      exec_mode: 'fork',
      // One process per port. Embedded mode keeps its history in memory: a second instance would not share it.
      instances: 1,
      autorestart: true,
      restart_delay: 1000,
      // pm2 stops with SIGINT, which Hookway treats as SIGTERM (clients closed with 1001, stores flushed). Wait longer
      // than SHUTDOWN_TIMEOUT_MS (9 s by default) before pm2 falls back to SIGKILL.
      kill_timeout: 15_000,
      // pino already writes one JSON line per event with its own time: no pm2 prefix, so `pino-pretty` can read it.
      time: false,
      env: {
        NODE_ENV: 'production',
        // One glibc malloc arena: the compiler threads' freed memory is reused, ~5 MiB less RSS (scripts/node-flags.ts).
        MALLOC_ARENA_MAX: '1',
        PORT: env('PORT', '8000'),
        HOST: env('HOST', '0.0.0.0'),
        LOG_LEVEL: env('LOG_LEVEL', 'info'),
        SHUTDOWN_TIMEOUT_MS: env('SHUTDOWN_TIMEOUT_MS', '9000'),
        // Examples (uncomment and fill in):
        // REDIS_URL: 'redis://127.0.0.1:6379',      // keeps history and sessions across restarts
        // BOTS_FILE: '/etc/hookway/bots',             // appid:secret lines, for gateway-mode SDKs
        // PUBLIC_URL: 'https://hook.example.com',
        // TRUST_PROXY: 'loopback',                    // the default: nginx / 宝塔 on this machine is believed
      },
    },
  ],
};
