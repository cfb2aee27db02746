import { describe, expect, it } from 'vitest';
import { mergeReports, type ActivitySnapshot, type BotActivity, type ReplicaReport } from '../src/index.ts';

const NOW = 1_700_000_100_000;
const bot = (tag: string, fields: Partial<BotActivity> = {}): BotActivity => ({
  bot: tag,
  eventsLast5Min: 0,
  eventsTotal: 0,
  validations: 0,
  clients: [],
  clientsTotal: 0,
  rejections: [],
  ...fields,
});
const replica = (replicaId: string, activity: Partial<ActivitySnapshot>, fields: Partial<ReplicaReport> = {}): ReplicaReport => ({
  replicaId,
  role: replicaId.split('-')[0]!,
  version: '0.1.0',
  startedAtMs: NOW - 60_000,
  reportedAtMs: NOW - 1000,
  ready: true,
  activity: { bots: [], botsOmitted: 0, unattributed: [], ...activity },
  ...fields,
});

describe('mergeReports', () => {
  it('adds one bot’s activity up across replicas; the latest event and validation win', () => {
    const data = mergeReports(
      [
        replica('ingress-a', {
          bots: [
            bot('bot:1', {
              appid: '102',
              lastEvent: { atMs: NOW - 5000, type: 'AT_MESSAGE_CREATE' },
              eventsLast5Min: 2,
              eventsTotal: 5,
              validations: 1,
              lastValidationAtMs: NOW - 9000,
              rejections: [{ atMs: NOW - 100, reason: 'bad_signature', address: '10.0.0.1' }],
            }),
          ],
          unattributed: [{ atMs: NOW - 50, reason: 'unknown_bot', address: '10.0.0.2' }],
        }),
        replica('ingress-b', {
          bots: [
            bot('bot:1', {
              lastEvent: { atMs: NOW - 1000, type: 'GROUP_AT_MESSAGE_CREATE' },
              eventsLast5Min: 3,
              eventsTotal: 3,
              validations: 2,
              lastValidationAtMs: NOW - 8000,
              rejections: [{ atMs: NOW - 10, reason: 'stale_timestamp', address: '10.0.0.3' }],
            }),
          ],
        }),
        replica('gateway-c', {
          bots: [bot('bot:1', { clients: [{ mode: 'raw', address: '127.0.0.1', sinceMs: NOW - 3000 }], clientsTotal: 1 })],
        }),
      ],
      'ingress-a',
      NOW,
      10_000,
    );
    expect(data.bots).toHaveLength(1);
    expect(data.bots[0]).toMatchObject({
      bot: 'bot:1',
      appid: '102',
      lastEvent: { atMs: NOW - 1000, type: 'GROUP_AT_MESSAGE_CREATE' },
      eventsLast5Min: 5,
      eventsTotal: 8,
      validations: 3,
      lastValidationAtMs: NOW - 8000,
      clientsTotal: 1,
      clients: [{ mode: 'raw', address: '127.0.0.1', sinceMs: NOW - 3000, replicaId: 'gateway-c' }],
    });
    expect(data.bots[0]?.rejections.map((r) => [r.reason, r.replicaId])).toEqual([
      ['stale_timestamp', 'ingress-b'],
      ['bad_signature', 'ingress-a'],
    ]);
    expect(data.unattributed).toEqual([{ atMs: NOW - 50, reason: 'unknown_bot', address: '10.0.0.2', replicaId: 'ingress-a' }]);
    expect(data.replicas.map((r) => [r.replicaId, r.self, r.clients])).toEqual([
      ['gateway-c', false, 1],
      ['ingress-a', true, 0],
      ['ingress-b', false, 0],
    ]);
  });

  it.each([
    { name: 'ready', fields: {}, health: 'ready' },
    { name: 'not ready', fields: { ready: false, notReadyReason: 'bus not ready' }, health: 'not_ready' },
    { name: 'stale (not renewed for two intervals)', fields: { reportedAtMs: NOW - 10_001 }, health: 'stale' },
  ])('says a replica that is $name is $health', ({ fields, health }) => {
    const [summary] = mergeReports([replica('gateway-x', {}, fields)], 'other', NOW, 10_000).replicas;
    expect(summary?.health).toBe(health);
    expect(summary?.uptimeSec).toBe(60);
  });
});
