import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ActivityRecorder, HOOKWAY_VERSION, MAX_BOTS_LISTED, REJECTIONS_KEPT } from '../src/index.ts';

const clock = (startMs = 1_700_000_000_000) => {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
};

describe('ActivityRecorder', () => {
  it('counts verified events in the last five minutes and keeps the latest one', () => {
    const t = clock();
    const a = new ActivityRecorder(t.now);
    a.verified('bot:aaaa0001', 'GROUP_AT_MESSAGE_CREATE', '102000001');
    t.advance(60_000);
    a.verified('bot:aaaa0001', 'C2C_MESSAGE_CREATE', undefined);
    a.verified('bot:aaaa0001', undefined, undefined);
    let [bot] = a.snapshot().bots;
    expect(bot).toMatchObject({ bot: 'bot:aaaa0001', appid: '102000001', eventsLast5Min: 3, eventsTotal: 3 });
    expect(bot?.lastEvent).toEqual({ atMs: t.now() });
    t.advance(4 * 60_000 + 1000);
    [bot] = a.snapshot().bots;
    expect(bot?.eventsLast5Min).toBe(2);
    t.advance(60_000);
    [bot] = a.snapshot().bots;
    expect(bot?.eventsLast5Min).toBe(0);
    expect(bot?.eventsTotal).toBe(3);
  });

  it('keeps a bounded list of recent rejections, newest first, per bot and unattributed', () => {
    const t = clock();
    const a = new ActivityRecorder(t.now);
    for (let i = 0; i < REJECTIONS_KEPT + 15; i++) {
      t.advance(1);
      a.rejected('bot:aaaa0001', `reason_${i}`, '10.0.0.1');
      a.rejected(undefined, `unknown_${i}`, '10.0.0.2');
    }
    const snap = a.snapshot();
    expect(snap.bots[0]?.rejections).toHaveLength(REJECTIONS_KEPT);
    expect(snap.bots[0]?.rejections[0]?.reason).toBe(`reason_${REJECTIONS_KEPT + 14}`);
    expect(snap.unattributed).toHaveLength(REJECTIONS_KEPT);
    expect(snap.unattributed[0]).toEqual({ atMs: t.now(), reason: `unknown_${REJECTIONS_KEPT + 14}`, address: '10.0.0.2' });
  });

  it('lists a connected client until it disconnects, with its key name', () => {
    const a = new ActivityRecorder();
    const gone = a.connected('bot:aaaa0001', { mode: 'raw', address: '127.0.0.1', sinceMs: 5, key: 'home-pc', appid: '102' });
    a.connected('bot:aaaa0001', { mode: 'gateway', address: '127.0.0.2', sinceMs: 6 });
    expect(a.snapshot().bots[0]).toMatchObject({ appid: '102', clientsTotal: 2 });
    expect(a.snapshot().bots[0]?.clients).toContainEqual({ mode: 'raw', address: '127.0.0.1', sinceMs: 5, key: 'home-pc' });
    gone.disconnected();
    expect(a.snapshot().bots[0]?.clients).toEqual([{ mode: 'gateway', address: '127.0.0.2', sinceMs: 6 }]);
    expect(a.clientCount).toBe(1);
  });

  it('bounds the bots it remembers and lists, keeping those with clients', () => {
    const a = new ActivityRecorder();
    a.connected('bot:keepme00', { mode: 'raw', address: '127.0.0.1', sinceMs: 1 });
    for (let i = 0; i < 3000; i++) a.validated(`bot:${String(i).padStart(8, '0')}`);
    const snap = a.snapshot();
    expect(snap.bots).toHaveLength(MAX_BOTS_LISTED);
    expect(snap.bots[0]?.bot).toBe('bot:keepme00');
    expect(snap.bots.length + snap.botsOmitted).toBeLessThanOrEqual(1000);
  });

  it('keeps and lists a bot with verified events however many secrets anyone sends op 13 or bad signatures for', () => {
    const t = clock();
    const a = new ActivityRecorder(t.now);
    a.verified('bot:real0001', 'GROUP_AT_MESSAGE_CREATE', '102000001');
    // op 13 and refusals are unauthenticated with the secret in the URL: any string makes a new tag.
    for (let i = 0; i < 3000; i++) {
      t.advance(1);
      a.validated(`bot:${String(i).padStart(8, '0')}`);
      a.rejected(`bot:${String(i + 5000).padStart(8, '0')}`, 'bad_signature', '203.0.113.9');
    }
    const snap = a.snapshot();
    expect(snap.bots.map((b) => b.bot)).toContain('bot:real0001');
    expect(snap.bots.find((b) => b.bot === 'bot:real0001')).toMatchObject({ eventsTotal: 1, appid: '102000001' });
  });

  it('lists a bot with verified events before bots that only have clients (anyone can connect /ws with a made-up secret)', () => {
    const a = new ActivityRecorder();
    a.verified('bot:real0001', 'GROUP_AT_MESSAGE_CREATE', undefined);
    for (let i = 0; i < MAX_BOTS_LISTED + 50; i++) {
      a.connected(`bot:${String(i).padStart(8, '0')}`, { mode: 'raw', address: '203.0.113.9', sinceMs: 1 });
    }
    expect(a.snapshot().bots[0]?.bot).toBe('bot:real0001');
  });
});

describe('HOOKWAY_VERSION', () => {
  it('is the root package.json’s version', () => {
    const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(HOOKWAY_VERSION).toBe(root.version);
  });
});
