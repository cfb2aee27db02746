import { describe, expect, it } from 'vitest';
import type { ActivityNotes } from '@hookway/bots';
import { c2cMessage, groupAtMessage } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';

const { start } = ingressFixture();

/** What the ingress told the activity recorder, one line per note. */
function notes(): ActivityNotes & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    validated: (bot, atMs) => seen.push(`validated ${bot.reveal()} ${atMs}`),
    verifiedEvent: (bot, type, atMs) => seen.push(`event ${bot.reveal()} ${type ?? '-'} ${atMs}`),
  };
}

describe('what the ingress tells the bot activity record', () => {
  it('each op 13 answered and each verified event (a retry too), with its type; nothing it refused', async () => {
    const activity = notes();
    const r = await start({}, { botActivity: activity, nowMs: () => 1_000 });
    const sender = r.sender();
    const body = c2cMessage();
    expect((await sender.validate('tok', '1725000000')).status).toBe(200);
    expect((await sender.dispatch(body, { timestamp: '1' })).status).toBe(200);
    expect((await sender.dispatch(body, { timestamp: '1' })).status).toBe(200);
    // Refused: a bad signature, a malformed op 13, a body that is no QQ payload.
    expect((await sender.dispatch(groupAtMessage(), { timestamp: '1', signature: '0'.repeat(128) })).status).toBe(401);
    expect((await sender.post(JSON.stringify({ op: 13, d: {} }))).status).toBe(400);
    expect((await sender.post('[]')).status).toBe(400);
    expect(activity.seen).toEqual([
      `validated ${SECRET} 1000`,
      `event ${SECRET} C2C_MESSAGE_CREATE 1000`,
      `event ${SECRET} C2C_MESSAGE_CREATE 1000`,
    ]);
  });
});
