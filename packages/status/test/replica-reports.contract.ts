import { afterEach, describe, expect, it } from 'vitest';
import { until } from '@hookway/testkit';
import type { ReplicaReport, ReplicaReports } from '../src/index.ts';

let counter = 0;
/** Unique per test so implementations with shared storage (Redis) never see another test's reports. */
const freshId = (role: string) => `${role}-contract-${process.pid}-${Date.now()}-${++counter}`;

export const report = (replicaId: string, overrides: Partial<ReplicaReport> = {}): ReplicaReport => ({
  replicaId,
  role: 'gateway',
  version: '0.1.0',
  startedAtMs: Date.now() - 1000,
  reportedAtMs: Date.now(),
  ready: true,
  activity: { bots: [], botsOmitted: 0, unattributed: [] },
  ...overrides,
});

const ids = async (reports: ReplicaReports) => (await reports.all()).map((r) => r.replicaId);

/** The behaviour every ReplicaReports implementation must have. */
export function replicaReportsContract(name: string, openReports: () => Promise<ReplicaReports>): void {
  describe(`ReplicaReports contract: ${name}`, () => {
    const open: ReplicaReports[] = [];
    const reports = async () => {
      const r = await openReports();
      open.push(r);
      return r;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((r) => r.close()));
    });

    it('lists every replica’s latest report, a newer one replacing the older', async () => {
      const r = await reports();
      const [a, b] = [freshId('ingress'), freshId('gateway')];
      await r.write(report(a, { role: 'ingress' }), 60_000);
      await r.write(report(b, { ready: false, notReadyReason: 'bus not ready' }), 60_000);
      await r.write(report(b, { ready: true }), 60_000);
      const all = (await r.all()).filter((x) => x.replicaId === a || x.replicaId === b);
      expect(all.map((x) => x.replicaId).sort()).toEqual([a, b].sort());
      expect(all.find((x) => x.replicaId === a)?.role).toBe('ingress');
      expect(all.find((x) => x.replicaId === b)?.ready).toBe(true);
    });

    it('keeps the activity as written', async () => {
      const r = await reports();
      const a = freshId('relay');
      const activity = {
        bots: [
          {
            bot: 'bot:1a2b3c4d',
            appid: '102000001',
            lastEvent: { atMs: 1_700_000_000_000, type: 'GROUP_AT_MESSAGE_CREATE' },
            eventsLast5Min: 3,
            eventsTotal: 7,
            validations: 1,
            lastValidationAtMs: 1_700_000_000_001,
            clients: [{ mode: 'raw' as const, address: '127.0.0.1', sinceMs: 1_700_000_000_002, key: 'home-pc' }],
            clientsTotal: 1,
            rejections: [{ atMs: 1_700_000_000_003, reason: 'bad_signature', address: '10.0.0.9' }],
          },
        ],
        botsOmitted: 0,
        unattributed: [{ atMs: 1_700_000_000_004, reason: 'unknown_bot', address: '10.0.0.8' }],
      };
      await r.write(report(a, { activity }), 60_000);
      expect((await r.all()).find((x) => x.replicaId === a)?.activity).toEqual(activity);
    });

    it('forgets a withdrawn report at once', async () => {
      const r = await reports();
      const [a, b] = [freshId('gateway'), freshId('gateway')];
      await r.write(report(a), 60_000);
      await r.write(report(b), 60_000);
      await r.withdraw(a);
      const live = await ids(r);
      expect(live).not.toContain(a);
      expect(live).toContain(b);
    });

    it('forgets a report that was not renewed within its time to live (a replica that died)', async () => {
      const r = await reports();
      const [dying, renewed] = [freshId('gateway'), freshId('gateway')];
      await r.write(report(dying), 300);
      await r.write(report(renewed), 60_000);
      expect(await ids(r)).toContain(dying);
      await until(async () => !(await ids(r)).includes(dying), 'the unrenewed report to expire');
      expect(await ids(r)).toContain(renewed);
    });
  });
}
