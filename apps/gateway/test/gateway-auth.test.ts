import { describe, expect, it } from 'vitest';
import { groupAtMessage } from '@hookway/testkit';
import { BOT, gatewayFixture, SECRET, type RunningGateway } from './gateway-fixture.ts';

const { start, open, identified } = gatewayFixture();

/** Refused with op 9 and 4004; an event published before the socket closes does not reach it. */
const refused = async (g: RunningGateway, token: string) => {
  const c = await open(g);
  c.identify(token);
  const frames = await c.next(2);
  expect(frames[1]).toMatchObject({ op: 9 });
  await g.publish(groupAtMessage());
  expect((await c.closed).code).toBe(4004);
  expect(c.parsed().some((f) => f.op === 0)).toBe(false);
};

describe('who may receive a bot’s events', () => {
  it('refuses a forged token with op 9 and 4004, and logs the attempt without the token', async () => {
    const g = await start();
    await refused(g, 'QQBot forged-token-123456');
    expect(g.logs.join('')).toMatch(/gateway authentication failed/);
    expect(g.logs.join('')).not.toContain('forged-token-123456');
  });

  it('accepts the legacy Bot <appid>.<AppSecret> and refuses Bot <appid>.<anything else>', async () => {
    const g = await start();
    await identified(g, `Bot ${BOT.appid}.${BOT.secret}`);
    await refused(g, `Bot ${BOT.appid}.notTheSecret`);
  });

  it('accepts any Identify on /websocket?secret=<AppSecret>', async () => {
    const g = await start();
    const c = await open(g, `/websocket?secret=${SECRET}`);
    c.identify('QQBot whatever');
    expect((await c.next(2))[1]).toMatchObject({ t: 'READY' });
  });
});
