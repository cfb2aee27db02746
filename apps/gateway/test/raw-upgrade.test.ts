import { describe, expect, it } from 'vitest';
import { upgradeStatus } from '@hookway/testkit';
import { gatewayFixture, SECRET } from './gateway-fixture.ts';

const { start } = gatewayFixture();

describe('upgrade requests', () => {
  it('refuses bad secrets with 400 and unknown paths with 404', async () => {
    const g = await start();
    expect(await upgradeStatus(g.url('/ws'))).toBe(400);
    expect(await upgradeStatus(g.url('/ws?secret=abc'))).toBe(400);
    expect(await upgradeStatus(g.url('/ws/has%20space%20inside'))).toBe(400);
    expect(await upgradeStatus(g.url('/elsewhere'))).toBe(404);
    expect(await upgradeStatus(g.url(`/ws/${SECRET}/extra`))).toBe(404);
  });

  it('refuses an empty or oversized after with 400', async () => {
    const g = await start();
    expect(await upgradeStatus(g.url(`/ws?secret=${SECRET}&after=`))).toBe(400);
    expect(await upgradeStatus(g.url(`/ws?secret=${SECRET}&after=${'x'.repeat(600)}`))).toBe(400);
  });
});
