import { afterEach, describe, expect, it } from 'vitest';
import { freePort, groupAtMessage, startRedisServer, upgradeStatus, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { runHookway, startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET } from './harness.ts';
import { nginxBinary, startNginx, type RunningNginx } from './nginx.ts';

const installed = nginxBinary() !== undefined;
if (!installed && process.env.CI) throw new Error('nginx is not installed: .ci/run should have installed it');

const APPID = '102000001';

let redis: RedisServer | undefined;
let nginx: RunningNginx | undefined;
const processes: HookwayProcess[] = [];
const clients: WsCollector[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await nginx?.stop();
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
});

describe.runIf(installed)('no credential in nginx’s logs (deploy/nginx/hookway.conf)', { timeout: 60_000 }, () => {
  it('with the secretless callback URL and keys in a header, neither log holds a secret or a key, upstream failures included', async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, BOTS: `${APPID}:${SECRET}`, ALLOW_SECRET_IN_URL: 'false', SHUTDOWN_DRAIN_MS: '0' };
    const run = await runHookway(['keys', 'add', '--bot', APPID, '--name', 'nginx-test'], env);
    expect(run.status, run.stderr).toBe(0);
    const key = run.stdout.trim();
    const ingresses = await Promise.all([startProcess('ingress', env), startProcess('ingress', env)]);
    const gateways = await Promise.all([startProcess('gateway', env), startProcess('gateway', env)]);
    processes.push(...ingresses, ...gateways);
    nginx = await startNginx(await freePort(), { ingress: ingresses.map((p) => p.port), gateway: gateways.map((p) => p.port) });
    const front = `127.0.0.1:${nginx.port}`;
    const sender = new WebhookSender(`http://${front}`, SECRET);
    const asPlatform = { path: '/webhook', headers: { 'x-bot-appid': APPID } };
    const bearer = { headers: { authorization: `Bearer ${key}` } };

    // The usual traffic: the callback check, events, a client with its key in a header, a resume.
    const validation = '{"op":13,"d":{"plain_token":"plainToken01","event_ts":"1725442341"}}';
    expect((await sender.post(validation, { 'x-bot-appid': APPID }, '/webhook')).status).toBe(200);
    const client = await WsCollector.connect(`ws://${front}/ws`, bearer);
    clients.push(client);
    const bodies = [groupAtMessage(), groupAtMessage()];
    for (const body of bodies) expect((await sender.dispatch(body, asPlatform)).status).toBe(200);
    expect(await client.waitForFrames(2)).toEqual(bodies);
    // The original's forms are refused, and say so — in the answer, not in a log.
    expect(await upgradeStatus(`ws://${front}/ws?secret=${SECRET}`)).toBe(403);

    // Upstream failures: every gateway gone (nginx logs the request line of each failed attempt), then every ingress.
    // (nginx answers those with its JSON 503 in Hookway's shape, not its HTML 502: error_page in hookway.conf.)
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    expect(await upgradeStatus(`ws://${front}/ws`, bearer)).toBe(503);
    expect(await upgradeStatus(`ws://${front}/websocket`, bearer)).toBe(503);
    await Promise.all(ingresses.map((i) => i.stop('SIGKILL')));
    const unreachable = await sender.dispatch(groupAtMessage(), asPlatform);
    expect([unreachable.status, unreachable.headers.get('content-type'), unreachable.headers.get('retry-after')]).toEqual([
      503,
      'application/json',
      '1',
    ]);
    expect(unreachable.json()).toMatchObject({ error: 'upstream_unavailable' });

    const { access, error } = nginx.logs();
    // The logs saw all of it (a grep of empty files would prove nothing)…
    expect(access).toMatch(/"POST \/webhook HTTP\/1\.1" 200/);
    expect(access).toMatch(/"GET \/ws HTTP\/1\.1" 101/);
    expect(error).toMatch(/upstream|no live upstreams/);
    expect(error).toContain('GET /ws HTTP/1.1');
    // …and hold no credential.
    for (const credential of [SECRET, key, key.slice(4)]) {
      expect(access.includes(credential), 'access log').toBe(false);
      expect(error.includes(credential), 'error log').toBe(false);
    }

    // The grep can fail: a key in the URL does reach the error log when the upstream is down — which is why the
    // README says to send it in a header.
    expect(await upgradeStatus(`ws://${front}/ws?key=${key}`)).toBe(503);
    expect(nginx.logs().error).toContain(key);
    expect(nginx.logs().access).not.toContain(key);
  });
});
