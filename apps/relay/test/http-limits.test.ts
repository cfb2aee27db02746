import { afterEach, describe, expect, it } from 'vitest';
import { RawHttpConnection, startRedisServer, type RedisServer } from '@hookway/testkit';
import { startProcess, type HookwayProcess, type Role } from './cluster.ts';

const started: HookwayProcess[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  redis = undefined;
});

const LIMITS = { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_BODY_TIMEOUT_MS: '800', MAX_CONNECTIONS: '16' };

describe('every role’s HTTP server takes its limits from the settings', () => {
  it.each<Role>(['relay', 'ingress', 'gateway'])('%s: header timeout (408 JSON) and MAX_CONNECTIONS', async (role) => {
    const env: Record<string, string> = { ...LIMITS };
    if (role !== 'relay') {
      redis = await startRedisServer();
      env.REDIS_URL = redis.url;
    }
    const p = await startProcess(role, env);
    started.push(p);

    // Headers that never finish: cut off after HTTP_HEADERS_TIMEOUT_MS, far sooner than the 5 s default.
    const slow = await RawHttpConnection.open(p.port);
    const startedMs = Date.now();
    await slow.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await slow.closed;
    expect(slow.answer()).toMatchObject({ status: 408, body: { error: 'request_timeout' } });
    expect(Date.now() - startedMs).toBeLessThan(3000);

    // MAX_CONNECTIONS open: the next one is closed at once, unanswered.
    const held = await Promise.all(Array.from({ length: 16 }, () => RawHttpConnection.open(p.port)));
    const refused = await RawHttpConnection.open(p.port);
    await refused.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await refused.closed).toBe('');
    for (const c of held) c.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The server notices the held connections go a moment later: ask until it answers.
    let health: Record<string, number> | undefined;
    for (const deadline = Date.now() + 5000; !health && Date.now() < deadline;) {
      health = await fetch(`${p.baseUrl}/healthz`).then(
        async (r) => (await r.json()) as Record<string, number>,
        () => undefined,
      );
    }
    expect(health).toMatchObject({ httpRequestsTimedOut: 1, httpConnectionsRefused: expect.any(Number) });
    expect(health!.httpConnectionsRefused).toBeGreaterThanOrEqual(1);
  });
});
