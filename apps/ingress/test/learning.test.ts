import type { AppSecret } from '@hookway/protocol';
import { describe, expect, it } from 'vitest';
import { groupAtMessage } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';

const { start } = ingressFixture();
const APPID = '102000001';
const named = (appid = APPID) => ({ headers: { 'x-bot-appid': appid } });

/**
 * The `learnBot` dependency (BotDirectory.learn in production, which asks the token service): records every call
 * and answers what `answer` says.
 */
function learner(answer: (appid: string) => Promise<boolean> = async () => true) {
  const calls: [appid: string, secret: string][] = [];
  return {
    calls,
    learnBot: (appid: string, secret: AppSecret) => {
      calls.push([appid, secret.reveal()]);
      return answer(appid);
    },
  };
}

describe('learning bots from X-Bot-Appid', () => {
  it('passes appid and secret on from an accepted, verified event only', async () => {
    const { calls, learnBot } = learner();
    const r = await start({}, { learnBot });
    const sender = r.sender();
    await sender.post('{"op":13,"d":{"plain_token":"a","event_ts":"1"}}', { 'x-bot-appid': APPID });
    await sender.dispatch(groupAtMessage(), { ...named(), signature: 'f'.repeat(128) });
    await sender.dispatch(groupAtMessage(), named('not-a-number'));
    await sender.dispatch(groupAtMessage());
    expect(calls).toEqual([]);
    const body = groupAtMessage();
    await sender.dispatch(body, named());
    expect(calls).toEqual([[APPID, SECRET]]);
    // A kept bot is not asked about again, and a retry of the same event is no news.
    await sender.dispatch(body, named());
    await sender.dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(1);
  });

  it('tries again after the token service failed, but not at once', async () => {
    let now = Date.now();
    let ok = false;
    const { calls, learnBot } = learner(async () => ok);
    const r = await start({ signatureMaxSkewSec: 0 }, { nowMs: () => now, learnBot });
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(1);
    ok = true;
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(1);
    now += 61_000;
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(2);
    now += 61_000;
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(2);
  });

  it('logs a learner that throws and retries it later, without failing the webhook', async () => {
    let now = Date.now();
    const { calls, learnBot } = learner(async () => {
      throw new Error('token service exploded');
    });
    const r = await start({ signatureMaxSkewSec: 0 }, { nowMs: () => now, learnBot });
    expect((await r.sender().dispatch(groupAtMessage(), named())).status).toBe(200);
    expect(r.logs.join('')).toMatch(/could not record the bot for gateway mode/);
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(1);
    now += 61_000;
    await r.sender().dispatch(groupAtMessage(), named());
    expect(calls).toHaveLength(2);
  });

  it('asks at most 30 times a minute, whatever appids are claimed', async () => {
    let now = Date.now();
    const { calls, learnBot } = learner(async () => false);
    const r = await start({ signatureMaxSkewSec: 0 }, { nowMs: () => now, learnBot });
    const claim = (i: number) => r.sender('MadeUpSecret123').dispatch(groupAtMessage(), named(String(900000000 + i)));
    for (let i = 0; i < 40; i++) expect((await claim(i)).status).toBe(200);
    expect(calls).toHaveLength(30);
    now += 60_000;
    for (let i = 40; i < 45; i++) await claim(i);
    expect(calls).toHaveLength(35);
  });
});
