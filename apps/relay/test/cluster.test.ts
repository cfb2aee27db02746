import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  GatewayTestClient,
  groupAtMessage,
  idOf,
  startRedisServer,
  until,
  WebhookSender,
  WsCollector,
  type RedisServer,
} from '@hookway/testkit';
import { startProcess, type HookwayProcess, type Role } from './cluster.ts';
import { SECRET, sleep } from './harness.ts';

const started: HookwayProcess[] = [];
const clients: WsCollector[] = [];
const redisClients: Redis[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const r of redisClients.splice(0)) r.disconnect();
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  redis = undefined;
});

async function cluster(shape: Partial<Record<Role, number>>, options: { appendOnly?: boolean; env?: Record<string, string> } = {}) {
  redis = await startRedisServer({ appendOnly: options.appendOnly ?? false });
  const env = { REDIS_URL: redis.url, ...options.env };
  const start = async (role: Role) => {
    const p = await startProcess(role, env);
    started.push(p);
    return p;
  };
  const ingresses = await Promise.all(Array.from({ length: shape.ingress ?? 0 }, () => start('ingress')));
  const gateways = await Promise.all(Array.from({ length: shape.gateway ?? 0 }, () => start('gateway')));
  return { redis, ingresses, gateways, start, env };
}
const wsUrl = (p: HookwayProcess, query = '') => `ws://127.0.0.1:${p.port}/ws?secret=${SECRET}${query}`;
const connect = async (url: string) => {
  const c = await WsCollector.connect(url);
  clients.push(c);
  return c;
};
/** A plain Redis client for inspecting the cluster from outside; closed after each test. */
const inspect = (url: string) => {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  redisClients.push(r);
  return r;
};
/** Waits until `read()` gives `expected`: a state of another process, which no event announces. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<void> {
  let last: T | undefined;
  await until(
    async () => (last = await read()) === expected,
    () => `${String(expected)} (last read: ${String(last)})`,
  );
}
const readyz = async (p: HookwayProcess) => (await fetch(`${p.baseUrl}/readyz`)).status;
const eventsOnly = (frames: string[]) => frames.filter((f) => !f.startsWith('{"hookway"'));

/** Posts like the platform: an event that is not acknowledged with 200 is retried until it is. */
async function postUntilAcked(senders: WebhookSender[], body: string, i: number, outcomes: number[], deadlineMs = 20_000) {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    const sender = senders[(i + attempt) % senders.length]!;
    const status = await sender.dispatch(body).then(
      (r) => r.status,
      () => 0,
    );
    outcomes.push(status);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`event ${i} never acknowledged`);
    await sleep(100);
  }
}

// Each test starts several Node processes (tsx and the app: ~0.7 s of CPU each) and a redis-server, some of them more
// than once: a few seconds unloaded, over 17 s on a busy 2-core box. The budget is for that, not for any wait.
describe('2 ingress + 2 gateway processes over a real Redis', { timeout: 60_000 }, () => {
  it('delivers events posted round robin to clients on both gateways exactly once, in order, byte-identical', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 2, gateway: 2 });
    const a = await connect(wsUrl(gateways[0]!));
    const b = await connect(wsUrl(gateways[1]!));
    // A client without `after` gets what no client has received yet, then live events: if one gateway were still
    // subscribing when the other passed on the first events, its client would never see them.
    await Promise.all(gateways.map((g) => g.outputMatching(/"msg":"client connected"/)));
    const senders = ingresses.map((p) => new WebhookSender(p.baseUrl, SECRET));
    const bodies = Array.from({ length: 120 }, (_, i) => groupAtMessage({ content: `event ${i} 你好` }));
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        for (let i = lane; i < bodies.length; i += 4) expect((await senders[i % 2]!.dispatch(bodies[i]!)).status).toBe(200);
      }),
    );
    const seenA = await a.waitForFrames(bodies.length);
    const seenB = await b.waitForFrames(bodies.length);
    expect(seenB).toEqual(seenA);
    expect([...seenA].sort()).toEqual([...bodies].sort());
    const stored = await inspect(redis!.url).xrange(`qq:{${SECRET}}:stream`, '-', '+');
    expect(stored.map(([, fields]) => fields[1])).toEqual(seenA);
    await sleep(100);
    expect([a.frames.length, b.frames.length]).toEqual([bodies.length, bodies.length]);
  });

  it('shares de-duplication: a platform retry that lands on the other ingress is acknowledged, not delivered again', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 2, gateway: 1 });
    const client = await connect(wsUrl(gateways[0]!));
    const body = groupAtMessage();
    const first = await new WebhookSender(ingresses[0]!.baseUrl, SECRET).dispatch(body);
    const retry = await new WebhookSender(ingresses[1]!.baseUrl, SECRET).dispatch(body);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.headers.get('x-hookway-duplicate')).toBe('1');
    const next = groupAtMessage();
    await new WebhookSender(ingresses[1]!.baseUrl, SECRET).dispatch(next);
    expect(await client.waitForFrames(2)).toEqual([body, next]);
    await sleep(100);
    expect(client.frames).toHaveLength(2);
  });

  it('a gateway subscribes to a bot only while it has clients for it, and serves health but no webhooks', async () => {
    const { gateways } = await cluster({ gateway: 1 });
    const r = inspect(redis!.url);
    const subscribers = async () => Number(((await r.call('PUBSUB', 'NUMSUB', `qq:${SECRET}`)) as [string, number])[1]);
    expect(await subscribers()).toBe(0);
    const [a, b] = [await connect(wsUrl(gateways[0]!)), await connect(wsUrl(gateways[0]!))];
    await eventually(subscribers, 1);
    a.close();
    await a.closed;
    await sleep(100);
    expect(await subscribers()).toBe(1);
    b.close();
    await b.closed;
    await eventually(subscribers, 0);
    expect((await fetch(`${gateways[0]!.baseUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${gateways[0]!.baseUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateways[0]!.baseUrl}/webhook?secret=${SECRET}`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${gateways[0]!.baseUrl}/ws?secret=${SECRET}`)).status).toBe(426);
  });

  it('`pnpm start` with REDIS_URL runs both roles over Redis, alongside separate replicas', async () => {
    const { ingresses, start } = await cluster({ ingress: 1 });
    const relay = await start('relay');
    expect(relay.output()).toMatch(/using Redis/);
    const client = await connect(wsUrl(relay));
    const body = groupAtMessage();
    expect((await new WebhookSender(ingresses[0]!.baseUrl, SECRET).dispatch(body)).status).toBe(200);
    expect(await client.waitForFrames(1)).toEqual([body]);
  });

  it('a client of a gateway killed with SIGKILL resumes on the other with after and ends with every event', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 2, gateway: 2 });
    const senders = ingresses.map((p) => new WebhookSender(p.baseUrl, SECRET));
    const bodies = Array.from({ length: 80 }, () => groupAtMessage());
    const first = await connect(wsUrl(gateways[0]!));
    const posting = (async () => {
      for (const [i, body] of bodies.entries()) {
        expect((await senders[i % 2]!.dispatch(body)).status).toBe(200);
        await sleep(5);
      }
    })();
    await first.waitForFrames(20);
    await gateways[0]!.stop('SIGKILL');
    await first.closed;
    const seen = [...first.frames];
    const resumed = await connect(wsUrl(gateways[1]!, `&after=${encodeURIComponent(idOf(seen.at(-1)!))}`));
    await posting;
    const rest = bodies.length - seen.length;
    const frames = await resumed.waitForFrames(rest + 1);
    expect(JSON.parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true });
    expect([...seen, ...frames.slice(1)]).toEqual(bodies);
  });

  it('survives a Redis outage: ingress answers 5xx, recovers by itself, and every acknowledged event is delivered', async () => {
    const { ingresses, gateways } = await cluster(
      { ingress: 2, gateway: 1 },
      { appendOnly: true, env: { REDIS_COMMAND_TIMEOUT_MS: '500' } },
    );
    const senders = ingresses.map((p) => new WebhookSender(p.baseUrl, SECRET));
    const client = await connect(wsUrl(gateways[0]!));
    const bodies = Array.from({ length: 60 }, () => groupAtMessage());
    const outcomes: number[] = [];
    let readyDuringOutage: number | undefined;
    let restarting: Promise<unknown> | undefined;
    let restartFailure: unknown;
    for (const [i, body] of bodies.entries()) {
      if (i === 20) {
        await redis!.kill();
        // The ingress notices the lost connection by itself; /readyz must turn 503 before Redis is back…
        await until(async () => (readyDuringOutage = await readyz(ingresses[0]!)) !== 200, 'ingress 0 to notice the outage');
        // …and a delivery meanwhile is refused, so the platform retries it. Redis comes back after that refusal.
        outcomes.push((await senders[0]!.dispatch(body)).status);
        restarting = redis!.restart().catch((err: unknown) => (restartFailure = err));
      }
      await postUntilAcked(senders, body, i, outcomes);
    }
    await restarting;
    expect(restartFailure).toBeUndefined();
    expect(readyDuringOutage).toBe(503);
    expect(outcomes.some((s) => s >= 500)).toBe(true);
    expect(outcomes.filter((s) => s === 200)).toHaveLength(bodies.length);
    // Both ingresses reconnect by themselves, each on its own backoff: the other one may have taken the last events.
    await eventually(() => readyz(ingresses[0]!), 200);
    const frames = eventsOnly(await client.waitForFrames(bodies.length));
    expect(frames).toEqual(bodies);
  });

  it('notices events its subscriber missed (connection cut) and backfills them from the history', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 1, gateway: 1 });
    const sender = new WebhookSender(ingresses[0]!.baseUrl, SECRET);
    const client = await connect(wsUrl(gateways[0]!));
    const bodies = Array.from({ length: 40 }, () => groupAtMessage());
    const r = inspect(redis!.url);
    for (const [i, body] of bodies.entries()) {
      // The second cut comes before the last events, and nothing follows them: only the resync after the
      // subscriber reconnects can bring them (no later event would reveal the gap).
      if (i === 10 || i === 30) await r.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      expect((await sender.dispatch(body)).status).toBe(200);
    }
    expect(await client.waitForFrames(bodies.length)).toEqual(bodies);
    const health = (await (await fetch(`${gateways[0]!.baseUrl}/healthz`)).json()) as Record<string, number>;
    expect(health.redisResyncs).toBeGreaterThanOrEqual(1);
  });

  it('an ingress started while Redis is down serves 503 and becomes ready by itself when Redis arrives', async () => {
    const { redis: server, start } = await cluster({});
    await server.stop();
    const ingress = await start('ingress');
    expect((await fetch(`${ingress.baseUrl}/readyz`)).status).toBe(503);
    const sender = new WebhookSender(ingress.baseUrl, SECRET);
    expect((await sender.dispatch(groupAtMessage())).status).toBe(503);
    await server.restart();
    await eventually(() => readyz(ingress), 200);
    expect((await sender.dispatch(groupAtMessage())).status).toBe(200);
  });

  it('a restarted gateway subscribes again and serves resumed and new clients', async () => {
    const { ingresses, gateways, start } = await cluster({ ingress: 1, gateway: 1 });
    const sender = new WebhookSender(ingresses[0]!.baseUrl, SECRET);
    const first = await connect(wsUrl(gateways[0]!));
    const before = Array.from({ length: 5 }, () => groupAtMessage());
    for (const body of before) await sender.dispatch(body);
    await first.waitForFrames(5);
    expect(await gateways[0]!.stop('SIGTERM')).toBe(0);
    expect((await first.closed).code).toBe(1001);
    const during = Array.from({ length: 5 }, () => groupAtMessage());
    for (const body of during) await sender.dispatch(body);
    const restarted = await start('gateway');
    const resumed = await connect(wsUrl(restarted, `&after=${encodeURIComponent(idOf(before.at(-1)!))}`));
    const after = groupAtMessage();
    await resumed.waitForFrames(6);
    await sender.dispatch(after);
    expect(eventsOnly(await resumed.waitForFrames(7))).toEqual([...during, after]);
  });

  it('treats a Redis that restarted empty as a new epoch: clients are told, and the new numbering is delivered', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 1, gateway: 1 });
    const sender = new WebhookSender(ingresses[0]!.baseUrl, SECRET);
    const live = await connect(wsUrl(gateways[0]!));
    const before = Array.from({ length: 10 }, () => groupAtMessage());
    for (const body of before) await postUntilAcked([sender], body, 0, []);
    await live.waitForFrames(10);
    await redis!.kill();
    await redis!.restart();
    // Whatever Redis had acknowledged but not yet published is gone: the gateway cannot know, so it says so.
    expect((await live.closed).code).toBe(4101);
    const fresh = await connect(wsUrl(gateways[0]!));
    const after = Array.from({ length: 10 }, () => groupAtMessage());
    for (const body of after) await postUntilAcked([sender], body, 0, []);
    // The new epoch numbers these 1…10 again: they must not be mistaken for repeats of the first ten.
    expect(await fresh.waitForFrames(10)).toEqual(after);
    const resumer = await connect(wsUrl(gateways[0]!, `&after=${encodeURIComponent(idOf(before.at(-1)!))}`));
    const frames = await resumer.waitForFrames(11);
    expect(JSON.parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: false, reason: 'cursor_not_found' });
    expect(frames.slice(1)).toEqual(after);
  });

  it('never logs the AppSecret or the Redis password, even when Redis refuses or errors', async () => {
    const { redis: server, ingresses, gateways } = await cluster({ ingress: 1, gateway: 1 });
    const password = 'Wr0ng/Pa55!';
    const badAuth = await startProcess('gateway', { REDIS_URL: `redis://:${encodeURIComponent(password)}@127.0.0.1:${server.port}` });
    started.push(badAuth);
    const client = await connect(wsUrl(gateways[0]!));
    await new WebhookSender(ingresses[0]!.baseUrl, SECRET).dispatch(groupAtMessage());
    await client.waitForFrames(1);
    // Break the bot's stream so the gateway's next history read gets an error reply, then make it read.
    const r = inspect(server.url);
    await r.del(`qq:{${SECRET}}:stream`);
    await r.set(`qq:{${SECRET}}:stream`, 'not a stream');
    await r.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await gateways[0]!.outputMatching(/history read failed/);
    for (const p of [badAuth, gateways[0]!, ingresses[0]!]) {
      expect(p.output()).not.toContain(SECRET);
      expect(p.output()).not.toContain(password);
    }
    expect(badAuth.output()).toMatch(/redis/i);
  });

  it('gateway mode: a session opened on one gateway replica resumes on the other after op 7', async () => {
    const { ingresses, gateways } = await cluster({ ingress: 1, gateway: 2 }, { env: { GATEWAY_CLOSE_GRACE_MS: '100' } });
    const sender = new WebhookSender(ingresses[0]!.baseUrl, SECRET);
    const first = await GatewayTestClient.connect(`ws://127.0.0.1:${gateways[0]!.port}/websocket?secret=${SECRET}`);
    clients.push(first);
    first.identify('QQBot any');
    const [, ready] = await first.next(2);
    const sessionId = (ready!.d as { session_id: string }).session_id;
    const before = [groupAtMessage(), groupAtMessage()];
    for (const body of before) await sender.dispatch(body);
    expect((await first.next(4)).slice(2).map((f) => f.s)).toEqual([2, 3]);
    const stopping = gateways[0]!.stop('SIGTERM');
    expect((await first.next(5))[4]).toEqual({ op: 7 });
    expect((await first.closed).code).toBe(4009);
    expect(await stopping).toBe(0);
    const missed = [groupAtMessage(), groupAtMessage()];
    for (const body of missed) await sender.dispatch(body);
    const second = await GatewayTestClient.connect(`ws://127.0.0.1:${gateways[1]!.port}/websocket?secret=${SECRET}`);
    clients.push(second);
    second.send({ op: 6, d: { token: 'QQBot any', session_id: sessionId, seq: 3 } });
    const frames = await second.next(4);
    expect(frames.slice(1, 3).map((f) => [f.s, f.id])).toEqual(missed.map((b, i) => [4 + i, idOf(b)]));
    expect(frames[3]).toEqual({ op: 0, s: 5, t: 'RESUMED', d: '' });
  });
});
