import { afterEach, describe, expect, it } from 'vitest';
import { c2cMessage, startRedisServer, until, WebhookSender, WsCollector, type RedisServer } from '@hookway/testkit';
import { startProcess, type HookwayProcess } from './cluster.ts';
import { SECRET, startRelay, type RunningRelay } from './harness.ts';

const NEVER_SEEN = 'DG5g3B4j9X2KOErH';
const relays: RunningRelay[] = [];
const processes: HookwayProcess[] = [];
const clients: WsCollector[] = [];
let redis: RedisServer | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const r of relays.splice(0)) await r.close();
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  await redis?.dispose();
  redis = undefined;
});

/** The hello frame a raw client gets with hello=1 on this WebSocket base URL. */
async function hello(wsBase: string, secret = SECRET): Promise<{ bot: Record<string, unknown> }> {
  const c = await WsCollector.connect(`${wsBase}/ws?secret=${secret}&hello=1`);
  clients.push(c);
  const [frame] = await c.waitForFrames(1);
  c.close();
  return JSON.parse(frame!) as { bot: Record<string, unknown> };
}

/** Op 13 then one verified event at `sender`; hello at `wsBase` must show both (another process may lag a write). */
async function showsWhatTheWebhookSaw(sender: WebhookSender, wsBase: string): Promise<void> {
  expect((await hello(wsBase)).bot).toMatchObject({ seen: false, validations: 0, hint: expect.stringContaining('never') });
  expect((await sender.validate('tok', '1725000000')).status).toBe(200);
  let last: Record<string, unknown> = {};
  await until(
    async () => (last = (await hello(wsBase)).bot).validations === 1,
    () => `hello with validations 1 (last: ${JSON.stringify(last)})`,
  );
  expect(last).toMatchObject({ seen: true, lastEventAt: null });
  expect(typeof last.lastValidationAt).toBe('string');
  expect((await sender.dispatch(c2cMessage())).status).toBe(200);
  await until(
    async () => (last = (await hello(wsBase)).bot).lastEventType === 'C2C_MESSAGE_CREATE',
    () => `hello with the event (last: ${JSON.stringify(last)})`,
  );
  expect(Date.parse(last.lastEventAt as string)).toBeGreaterThan(Date.now() - 60_000);
  // Another secret stays unseen: a mistyped one shows up as such.
  expect((await hello(wsBase, NEVER_SEEN)).bot).toMatchObject({ seen: false, appid: null });
}

describe('hello=1 shows what the webhook saw of the bot', () => {
  it('embedded: one process', async () => {
    const r = await startRelay();
    relays.push(r);
    await showsWhatTheWebhookSaw(r.sender(), r.wsUrl(''));
  });

  it('split: op 13 and the event on an ingress process, hello on a gateway process, over Redis', { timeout: 60_000 }, async () => {
    redis = await startRedisServer({ appendOnly: false });
    const env = { REDIS_URL: redis.url };
    const [ingress, gateway] = await Promise.all([startProcess('ingress', env), startProcess('gateway', env)]);
    processes.push(ingress, gateway);
    await showsWhatTheWebhookSaw(new WebhookSender(ingress.baseUrl, SECRET), `ws://127.0.0.1:${gateway.port}`);
  });
});
