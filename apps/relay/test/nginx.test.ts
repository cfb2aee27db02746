import { afterEach, describe, expect, it } from 'vitest';
import { freePort, groupAtMessage, idOf, startRedisServer, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET, sleep } from './harness.ts';
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

describe.runIf(installed)('behind nginx with deploy/nginx/hookway.conf', () => {
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
    const bodies = Array.from({ length: 90 }, () => groupAtMessage());
    const statuses: number[] = [];
    let resumedFrom: { seen: string[]; client: WsCollector } | undefined;
    for (const [i, body] of bodies.entries()) {
      if (i === 30) expect(await ingresses[0]!.stop('SIGTERM')).toBe(0);
      if (i === 60) {
        await gateways[0]!.stop('SIGKILL');
        await sleep(300);
        const dropped = first.filter((c) => c.ws.readyState !== c.ws.OPEN);
        expect(dropped).toHaveLength(1);
        const seen = [...dropped[0]!.frames];
        resumedFrom = { seen, client: await connectViaNginx(`&after=${encodeURIComponent(idOf(seen.at(-1)!))}`) };
      }
      statuses.push((await sender.dispatch(body)).status);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const survivor = first.find((c) => c.ws.readyState === c.ws.OPEN)!;
    expect(await survivor.waitForFrames(bodies.length, 15_000)).toEqual(bodies);
    const { seen, client } = resumedFrom!;
    const frames = await client.waitForFrames(bodies.length - seen.length + 1, 15_000);
    expect(JSON.parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true });
    expect([...seen, ...frames.slice(1)]).toEqual(bodies);
    expect((await fetch(`http://${front}/readyz`)).status).toBe(200);
    // Gateway discovery goes to an ingress, which answers with the address the client used (X-Forwarded-Host).
    expect(await (await fetch(`http://${front}/gateway`)).json()).toEqual({ url: `ws://${front}/websocket` });
  });
});
