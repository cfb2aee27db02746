import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Loads the relay's whole composition root in a fresh process (what `pnpm start` and the one-file build evaluate),
 * opens the backend its settings name, and lists the node_modules packages that CommonJS loaded. ioredis costs about
 * 10 MiB of RSS just to evaluate (docs/benchmarks.md), so the embedded relay must not: only a configured Redis loads it.
 */
function packagesLoadedWith(redisUrl: string | undefined): string[] {
  const script = `
    await import('./apps/relay/src/run-relay.ts');
    const { openBackend, closeBackend } = await import('./packages/redis/src/index.ts');
    const settings = { redisUrl: ${JSON.stringify(redisUrl ?? '')}, redisSentinels: [], redisSentinelMaster: 'mymaster', redisSentinelPassword: '', redisPassword: '',
      redisClusterNodes: [], redisCommandTimeoutMs: 200, redisMinReplicasAcked: 0, redisWaitTimeoutMs: 200 };
    const backend = await openBackend(settings, () => undefined);
    await closeBackend(backend);
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url).cache;
    const names = Object.keys(cache).map((p) => /node_modules\\/(?:\\.pnpm\\/[^/]+\\/node_modules\\/)?((?:@[^/]+\\/)?[^/]+)/.exec(p)?.[1]);
    console.log(JSON.stringify([...new Set(names.filter(Boolean))].sort()));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('ioredis is loaded only when a Redis is configured', () => {
  it('the embedded relay (no Redis) never loads it', () => {
    const loaded = packagesLoadedWith(undefined);
    expect(loaded).toContain('express'); // the listing sees CommonJS packages at all
    expect(loaded).not.toContain('ioredis');
  });

  it('a configured Redis loads it on demand', () => {
    // Nothing listens on port 1: the backend starts anyway (serving 503 until Redis is up), which is all we need.
    expect(packagesLoadedWith('redis://127.0.0.1:1')).toContain('ioredis');
  });
});
