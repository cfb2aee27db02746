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

describe('plain HTTP on a gateway', () => {
  it('tells clients of /ws and /websocket to upgrade (426) and answers other paths 404, as JSON', async () => {
    const g = await start();
    const http = (path: string) => fetch(g.url(path).replace(/^ws:/, 'http:'));
    for (const path of [`/ws?secret=${SECRET}`, '/websocket', '/websocket?secret=x']) {
      const res = await http(path);
      expect(res.status, path).toBe(426);
      expect(res.headers.get('upgrade')).toBe('websocket');
      expect(await res.json()).toMatchObject({ error: 'upgrade_required' });
    }
    const other = await http('/elsewhere');
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: 'not_found' });
  });
});
