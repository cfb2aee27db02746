import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  FakeQqPlatform,
  freePort,
  groupAtMessage,
  idOf,
  startRedisServer,
  WebhookSender,
  WsCollector,
  until,
  waitingFor,
  type RedisServer,
} from '@hookway/testkit';
import { startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET } from './harness.ts';
import { nginxBinary, startNginx, type RunningNginx } from './nginx.ts';

const installed = nginxBinary() !== undefined;
// The issue asks for this test wherever nginx is installed; CI installs it, so there it must never be skipped.
if (!installed && process.env.CI) throw new Error('nginx is not installed: .ci/run should have installed it');

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

// Four Hookway processes (tsx and the app: ~0.7 s of CPU each), nginx and redis-server per test, the SDK too in the
// second: a few seconds unloaded, over 17 s on a busy 2-core box. The budget is for that, not for any wait.
describe.runIf(installed)('behind nginx with deploy/nginx/hookway.conf', { timeout: 60_000 }, () => {
  it('routes webhooks to the ingresses and clients to the gateways, and loses nothing when one of each goes away', async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, SHUTDOWN_DRAIN_MS: '0' };
    const ingresses = await Promise.all([startProcess('ingress', env), startProcess('ingress', env)]);
    const gateways = await Promise.all([startProcess('gateway', env), startProcess('gateway', env)]);
    processes.push(...ingresses, ...gateways);
    nginx = await startNginx(await freePort(), { ingress: ingresses.map((p) => p.port), gateway: gateways.map((p) => p.port) });
    const front = `127.0.0.1:${nginx.port}`;
    const sender = new WebhookSender(`http://${front}`, SECRET);
    const connectViaNginx = async (query = '') => {
      const c = await WsCollector.connect(`ws://${front}/ws?secret=${SECRET}${query}`);
      clients.push(c);
      return c;
    };

    // nginx balances round robin, so these two land on different gateways.
    const first = [await connectViaNginx(), await connectViaNginx()];
    // Both gateways pass on live events before the first post (a client without `after` only gets what no client
    // has received yet).
    await Promise.all(gateways.map((g) => g.outputMatching(/"msg":"client connected"/)));
    const bodies = Array.from({ length: 90 }, () => groupAtMessage());
    const statuses: number[] = [];
    let resumedFrom: { seen: string[]; client: WsCollector } | undefined;
    for (const [i, body] of bodies.entries()) {
      if (i === 30) expect(await ingresses[0].stop('SIGTERM')).toBe(0);
      if (i === 60) {
        await gateways[0].stop('SIGKILL');
        await waitingFor('nginx to drop the client of the killed gateway', Promise.race(first.map((c) => c.closed)));
        const dropped = first.filter((c) => c.ws.readyState !== c.ws.OPEN);
        expect(dropped).toHaveLength(1);
        const seen = [...dropped[0]!.frames];
        resumedFrom = { seen, client: await connectViaNginx(`&after=${encodeURIComponent(idOf(seen.at(-1)!))}`) };
      }
      statuses.push((await sender.dispatch(body)).status);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const survivor = first.find((c) => c.ws.readyState === c.ws.OPEN)!;
    expect(await survivor.waitForFrames(bodies.length)).toEqual(bodies);
    const { seen, client } = resumedFrom!;
    const frames = await client.waitForFrames(bodies.length - seen.length + 1);
    expect(JSON.parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true });
    expect([...seen, ...frames.slice(1)]).toEqual(bodies);
    expect((await fetch(`http://${front}/readyz`)).status).toBe(200);
    // Gateway discovery goes to an ingress, which answers with the address the client used (X-Forwarded-Host).
    expect(await (await fetch(`http://${front}/gateway`)).json()).toEqual({ url: `ws://${front}/websocket` });
  });

  it('in split mode, a real SDK (Koishi’s adapter) resumes on the other gateway replica after op 7', async () => {
    const appid = '102000011';
    const fake = await new FakeQqPlatform([{ appid, secret: SECRET, userId: '6158788878435714165', username: 'split' }]).start();
    try {
      redis = await startRedisServer();
      const port = await freePort();
      const env = {
        REDIS_URL: redis.url,
        BOTS: `${appid}:${SECRET}`,
        QQ_API_BASE: fake.baseUrl,
        QQ_TOKEN_URL: fake.tokenUrl,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        GATEWAY_CLOSE_GRACE_MS: '200',
      };
      const ingresses = [await startProcess('ingress', env)];
      const gateways = await Promise.all([startProcess('gateway', env), startProcess('gateway', env)]);
      processes.push(...ingresses, ...gateways);
      nginx = await startNginx(port, { ingress: ingresses.map((p) => p.port), gateway: gateways.map((p) => p.port) });
      const sender = new WebhookSender(`http://127.0.0.1:${port}`, SECRET);

      const script = fileURLToPath(new URL('./sdk/satori-bot.mjs', import.meta.url));
      const sdk = spawn(process.execPath, [script], { env: { ...process.env, HOOKWAY: `127.0.0.1:${port}`, APPID: appid, SECRET } });
      let out = '';
      sdk.stdout.on('data', (d) => (out += d));
      sdk.stderr.on('data', (d) => (out += d));
      const lines = () =>
        out.split('\n').flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      const printed = (what: string, check: (line: Record<string, unknown>) => boolean) =>
        until(
          () => lines().some(check),
          () => `the SDK to print ${what}:\n${out.slice(-2000)}`,
          50,
        );
      try {
        await printed('login', (l) => l.login === 1);
        await sender.dispatch(groupAtMessage({ content: 'split-1' }));
        await printed('a reply to split-1', (l) => String(l.replied ?? '').includes('split-1'));
        const sessions = async (p: HookwayProcess) => (await (await fetch(`${p.baseUrl}/healthz`)).json()) as Record<string, number>;
        const serving = (await sessions(gateways[0])).gatewaySessions === 1 ? 0 : 1;
        expect(await gateways[serving].stop('SIGTERM')).toBe(0);
        await sender.dispatch(groupAtMessage({ content: 'split-2' }));
        await printed('a reply to split-2', (l) => String(l.replied ?? '').includes('split-2'));
        expect((await sessions(gateways[1 - serving]!)).gatewayResumes).toBeGreaterThanOrEqual(1);
        expect(lines().filter((l) => String(l.message ?? '').includes('split-1'))).toHaveLength(1);
      } finally {
        sdk.kill('SIGKILL');
      }
    } finally {
      await fake.stop();
    }
  });
});
