import { afterEach, describe, expect, it } from 'vitest';
import type { StatusData } from '@hookway/status';
import { groupAtMessage, startRedisServer, until, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET } from './harness.ts';

const TOKEN = 'cluster-status-token-0123456789';

const started: HookwayProcess[] = [];
const clients: WsCollector[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  redis = undefined;
});

const statusOf = async (p: HookwayProcess): Promise<StatusData> => {
  const res = await fetch(`${p.baseUrl}/status/data`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`${p.role} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as StatusData;
};
const roles = (data: StatusData) => data.replicas.map((r) => r.role).sort();

describe('the status page in split mode', { timeout: 60_000 }, () => {
  it('shows every replica and their merged activity on each of them; a killed replica disappears', async () => {
    redis = await startRedisServer({ appendOnly: false });
    const env = { REDIS_URL: redis.url, ADMIN_TOKEN: TOKEN, STATUS_REPORT_INTERVAL_MS: '300' };
    const [ingress, gateway] = await Promise.all([startProcess('ingress', env), startProcess('gateway', env)]);
    started.push(ingress, gateway);

    let last: StatusData | undefined;
    const view = async (p: HookwayProcess) => (last = await statusOf(p));
    await until(
      async () => roles(await view(ingress)).join() === 'gateway,ingress',
      () => `both replicas on the ingress's page (last: ${JSON.stringify(last?.replicas)})`,
    );

    const client = await WsCollector.connect(`ws://127.0.0.1:${gateway.port}/ws?secret=${SECRET}`);
    clients.push(client);
    expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(groupAtMessage())).status).toBe(200);
    await client.waitForFrames(1);

    // The ingress saw the event, the gateway holds the client: each page shows both.
    for (const p of [ingress, gateway]) {
      await until(
        async () => {
          const bot = (await view(p)).bots[0];
          return bot?.eventsTotal === 1 && bot.clientsTotal === 1;
        },
        () => `the merged activity on the ${p.role}'s page (last: ${JSON.stringify(last?.bots)})`,
      );
      expect(last!.replicas).toHaveLength(2);
      expect(last!.replicas.map((r) => r.health)).toEqual(['ready', 'ready']);
      expect(last!.replicas.find((r) => r.self)?.role).toBe(p.role);
      expect(last!.bots[0]).toMatchObject({ lastEvent: { type: 'GROUP_AT_MESSAGE_CREATE' }, eventsLast5Min: 1 });
      expect(last!.bots[0]!.clients).toMatchObject([{ mode: 'raw', address: '127.0.0.1', replicaId: expect.stringMatching(/^gateway-/) }]);
    }

    await gateway.stop('SIGKILL');
    await until(
      async () => roles(await view(ingress)).join() === 'ingress',
      () => `the killed gateway to leave the page (last: ${JSON.stringify(last?.replicas)})`,
    );
    expect(last!.bots[0]?.clientsTotal).toBe(0);
    // The token opens the page; it is never written to a log.
    expect(ingress.output() + gateway.output()).not.toContain(TOKEN);
  });
});
