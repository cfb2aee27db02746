import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { seededRandom } from '@hookway/testkit';
import { MemoryEventLog, type MemoryEventLogOptions } from '../src/index.ts';
import { MapWindow } from './map-window.ts';

/**
 * The memory log's event ids through the log's own interface: what `publish` refuses as a duplicate (the bot's
 * DedupWindow, packages/bus/src/dedup-window.ts) and what `locate` answers (a walk of the retained history), at chosen
 * moments of an injected clock, and against the two Maps the log once kept, over long random runs.
 */
type Step =
  | { readonly atMs: number; readonly publish: string | undefined; readonly bytes?: number; readonly expect: number | 'duplicate' }
  | { readonly atMs: number; readonly locate: string; readonly expect: number | undefined };

const T = 1_796_000_000_000; // epoch ms: not a Smi, as the production clock's are
const W = 1000; // the dedup window of most cases
const WEEK = 7 * 24 * 3600 * 1000; // DEDUP_WINDOW_SEC's maximum, longer than 2^29 ms (the reach of the small-integer expiries the log once kept)
const FAR = 2 ** 29 + 5;
const bot = AppSecret.of('idTableBot');

const roomy = { historyMaxEvents: 100, historyMaxAgeMs: 3600_000, historyMaxBytes: 1 << 20, dedupWindowMs: W };
const oneEvent = { ...roomy, historyMaxEvents: 1 };

const cases: readonly { readonly name: string; readonly options: Omit<MemoryEventLogOptions, 'nowMs'>; readonly steps: readonly Step[] }[] =
  [
    {
      name: 'a retained id is a duplicate until, not at, its expiry; then accepted again, and located at its new seq',
      options: roomy,
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T + W - 1, publish: 'a', expect: 'duplicate' },
        { atMs: T + W - 1, locate: 'a', expect: 1 },
        { atMs: T + W, publish: 'a', expect: 2 },
        { atMs: T + W, locate: 'a', expect: 2 },
        { atMs: T + 2 * W - 1, publish: 'a', expect: 'duplicate' },
      ],
    },
    {
      name: 'an id whose event left the history: still a duplicate until its expiry, never located',
      options: oneEvent,
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T + 1, publish: 'b', expect: 2 },
        { atMs: T + 1, locate: 'a', expect: undefined },
        { atMs: T + W - 1, publish: 'a', expect: 'duplicate' },
        { atMs: T + W, publish: 'a', expect: 3 },
        { atMs: T + W, locate: 'a', expect: 3 },
        { atMs: T + W, publish: 'b', expect: 'duplicate' },
        { atMs: T + W + 1, publish: 'b', expect: 4 },
      ],
    },
    {
      name: 'trimmed by age and by bytes: not located, still remembered',
      options: { ...roomy, historyMaxAgeMs: 10, historyMaxBytes: 10 },
      steps: [
        { atMs: T, publish: 'a', bytes: 4, expect: 1 },
        { atMs: T + 10, publish: 'b', bytes: 4, expect: 2 },
        { atMs: T + 10, locate: 'a', expect: undefined },
        { atMs: T + 10, locate: 'b', expect: 2 },
        { atMs: T + 11, publish: 'c', bytes: 8, expect: 3 },
        { atMs: T + 11, locate: 'b', expect: undefined },
        { atMs: T + 11, publish: 'a', expect: 'duplicate' },
        { atMs: T + 11, publish: 'b', expect: 'duplicate' },
        { atMs: T + 11, publish: 'c', expect: 'duplicate' },
      ],
    },
    {
      name: 'past dedupMaxIds the oldest retained id is forgotten for dedup but still located',
      options: { ...roomy, dedupMaxIds: 2 },
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T, publish: undefined, expect: 2 },
        { atMs: T, publish: 'b', expect: 3 },
        { atMs: T, publish: undefined, expect: 4 },
        { atMs: T, publish: 'c', expect: 5 },
        { atMs: T, locate: 'a', expect: 1 },
        { atMs: T, publish: 'b', expect: 'duplicate' },
        { atMs: T, publish: 'a', expect: 6 }, // forgets b
        { atMs: T, locate: 'a', expect: 6 },
        { atMs: T, locate: 'b', expect: 3 },
        { atMs: T, publish: 'b', expect: 7 }, // forgets c
        { atMs: T, publish: 'c', expect: 8 }, // forgets a
        { atMs: T, publish: 'b', expect: 'duplicate' },
        { atMs: T, publish: 'a', expect: 9 },
      ],
    },
    {
      name: 'past dedupMaxIds ids whose events left the history go first, oldest first',
      options: { ...oneEvent, dedupMaxIds: 2 },
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T, publish: 'b', expect: 2 },
        { atMs: T, publish: 'c', expect: 3 },
        { atMs: T, publish: 'b', expect: 'duplicate' },
        { atMs: T, publish: 'c', expect: 'duplicate' },
        { atMs: T, publish: 'a', expect: 4 },
        { atMs: T, publish: 'c', expect: 'duplicate' },
        { atMs: T, publish: 'b', expect: 5 },
      ],
    },
    {
      name: 'a clock gone backwards: a later id with an earlier expiry answers by its own, retained or not',
      options: { ...roomy, historyMaxEvents: 2 },
      steps: [
        { atMs: T + 500, publish: 'a', expect: 1 },
        { atMs: T, publish: 'b', expect: 2 },
        { atMs: T + W - 1, publish: 'b', expect: 'duplicate' },
        { atMs: T + W, publish: 'b', expect: 3 },
        { atMs: T + W, publish: 'a', expect: 'duplicate' },
        { atMs: T, publish: 'c', expect: 4 },
        { atMs: T + W, publish: 'c', expect: 5 },
        { atMs: T + W + 499, publish: 'a', expect: 'duplicate' },
        { atMs: T + W + 500, publish: 'a', expect: 6 },
        { atMs: T + W + 500, locate: 'b', expect: undefined },
        { atMs: T + W + 500, locate: 'c', expect: 5 },
      ],
    },
    {
      name: 'expiries 2^29 ms apart, after their events left the history , keep exact boundaries',
      options: { ...oneEvent, dedupWindowMs: WEEK },
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T + FAR, publish: 'b', expect: 2 },
        { atMs: T - FAR, publish: 'c', expect: 3 },
        { atMs: T + 7, publish: 'd', expect: 4 },
        { atMs: T + 7, publish: undefined, expect: 5 },
        { atMs: T + WEEK - 1, publish: 'a', expect: 'duplicate' },
        { atMs: T + FAR + WEEK - 1, publish: 'b', expect: 'duplicate' },
        { atMs: T - FAR + WEEK - 1, publish: 'c', expect: 'duplicate' },
        { atMs: T + 7 + WEEK - 1, publish: 'd', expect: 'duplicate' },
        { atMs: T + WEEK, publish: 'a', expect: 6 },
        { atMs: T - FAR + WEEK, publish: 'c', expect: 7 },
        { atMs: T + 7 + WEEK, publish: 'd', expect: 8 },
        { atMs: T + FAR + WEEK, publish: 'b', expect: 9 },
      ],
    },
    {
      name: 'fractional milliseconds (an injected clock) keep exact boundaries, before and after integral ones',
      options: oneEvent,
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T + 0.5, publish: 'b', expect: 2 },
        { atMs: 0.1, publish: 'c', expect: 3 },
        { atMs: T + 2, publish: 'd', expect: 4 },
        { atMs: T + 2, publish: undefined, expect: 5 },
        { atMs: 0.1 + W - 2 ** -43, publish: 'c', expect: 'duplicate' },
        { atMs: 0.1 + W, publish: 'c', expect: 6 },
        { atMs: T + W - 0.5, publish: 'a', expect: 'duplicate' },
        { atMs: T + W, publish: 'a', expect: 7 },
        { atMs: T + W + 0.25, publish: 'b', expect: 'duplicate' },
        { atMs: T + W + 0.5, publish: 'b', expect: 8 },
        { atMs: T + W + 1.75, publish: 'd', expect: 'duplicate' },
        { atMs: T + W + 2, publish: 'd', expect: 9 },
      ],
    },
    {
      name: 'milliseconds beyond 2^50 keep their exact value',
      options: oneEvent,
      steps: [
        { atMs: 2 ** 52, publish: 'a', expect: 1 },
        { atMs: 2 ** 52 + 1, publish: 'b', expect: 2 },
        { atMs: 2 ** 52 + 1, publish: undefined, expect: 3 },
        { atMs: 2 ** 52 + W - 1, publish: 'a', expect: 'duplicate' },
        { atMs: 2 ** 52 + W, publish: 'b', expect: 'duplicate' },
        { atMs: 2 ** 52 + W, publish: 'a', expect: 4 },
        { atMs: 2 ** 52 + W + 1, publish: 'b', expect: 5 },
      ],
    },
    {
      name: 'a clock jumping 2^52 ms back keeps both sides exact',
      options: oneEvent,
      steps: [
        { atMs: T, publish: 'a', expect: 1 },
        { atMs: T, publish: undefined, expect: 2 },
        { atMs: -(2 ** 52), publish: 'b', expect: 3 },
        { atMs: -(2 ** 52), publish: undefined, expect: 4 },
        { atMs: T + W - 1, publish: 'a', expect: 'duplicate' },
        { atMs: -(2 ** 52) + W - 1, publish: 'b', expect: 'duplicate' },
        { atMs: -(2 ** 52) + W, publish: 'b', expect: 5 },
        { atMs: T + W - 1, publish: 'a', expect: 'duplicate' },
        { atMs: T + W, publish: 'a', expect: 6 },
      ],
    },
  ];

describe('the memory log’s event ids', () => {
  for (const { name, options, steps } of cases) {
    it(name, async () => {
      let now = 0;
      const log = new MemoryEventLog({ ...options, nowMs: () => now });
      const answers = [];
      for (const step of steps) {
        now = step.atMs;
        if ('locate' in step) {
          answers.push({ locate: step.locate, atMs: now, answer: (await log.locate(bot, step.locate))?.seq });
        } else {
          const result = await log.publish(bot, { eventId: step.publish, body: Buffer.alloc(step.bytes ?? 1, 0x61) });
          answers.push({ publish: step.publish, atMs: now, answer: result.status === 'duplicate' ? 'duplicate' : result.position.seq });
        }
      }
      await log.close();
      expect(answers).toEqual(
        steps.map((step) =>
          'locate' in step
            ? { locate: step.locate, atMs: step.atMs, answer: step.expect }
            : { publish: step.publish, atMs: step.atMs, answer: step.expect },
        ),
      );
    });
  }

  const wanderings = [
    {
      name: 'a 1 s window, small limits',
      limits: { historyMaxEvents: 6, historyMaxAgeMs: 700, historyMaxBytes: 40, dedupWindowMs: 1000 },
      farMs: 0,
    },
    {
      name: 'a week’s window, jumps of more than 2^29 ms',
      limits: { historyMaxEvents: 6, historyMaxAgeMs: WEEK * 2, historyMaxBytes: 40, dedupWindowMs: WEEK },
      farMs: FAR,
    },
    {
      name: 'history longer than the window',
      limits: { historyMaxEvents: 30, historyMaxAgeMs: 5000, historyMaxBytes: 1000, dedupWindowMs: 300 },
      farMs: 0,
    },
  ];
  for (const { name, limits, farMs } of wanderings) {
    it(`answers as the two maps it replaced over a long run with a wandering clock (${name})`, async () => {
      const dedupMaxIds = 8;
      let now = T;
      const log = new MemoryEventLog({ ...limits, dedupMaxIds, nowMs: () => now });
      const reference = new TwoMapsLog(limits, dedupMaxIds);
      const random = seededRandom(11);
      const answers = { duplicate: 0, accepted: 0, located: 0 };
      for (let step = 0; step < 6000; step++) {
        const jump = random(100);
        now += jump < 90 ? random(60) : jump < 98 ? -random(400) : (jump % 2 ? 1 : -1) * (farMs || 5000) - random(1000);
        const id = random(10) === 0 ? undefined : `id${random(25)}`;
        const bytes = 1 + random(10);
        const result = await log.publish(bot, { eventId: id, body: Buffer.alloc(bytes, 0x62) });
        const expected = reference.publish(id, bytes, now);
        expect(result.status === 'duplicate' ? 'duplicate' : result.position.seq).toBe(expected);
        answers[expected === 'duplicate' ? 'duplicate' : 'accepted']++;
        const asked = `id${random(25)}`;
        const located = (await log.locate(bot, asked))?.seq;
        expect(located).toBe(reference.locate(asked, now));
        if (located !== undefined) answers.located++;
        if (step % 500 === 0) expect((await log.history(bot)).events.map((e) => e.seq)).toEqual(reference.retainedSeqs());
      }
      await log.close();
      // The run exercised every answer (a test that cannot fail is a defect).
      expect(Math.min(answers.duplicate, answers.accepted, answers.located)).toBeGreaterThan(300);
    });
  }
});

/** The memory log's ids before the one table (memory-event-log.ts, main at 158fcfd): id → seq, and id → expiry (MapWindow). */
class TwoMapsLog {
  private readonly events: { seq: number; eventId: string | undefined; bytes: number; acceptedAtMs: number }[] = [];
  private headSeq = 0;
  private bytes = 0;
  private readonly seqByEventId = new Map<string, number>();
  private readonly dedup: MapWindow;

  constructor(
    private readonly limits: { historyMaxEvents: number; historyMaxAgeMs: number; historyMaxBytes: number; dedupWindowMs: number },
    dedupMaxIds: number,
  ) {
    this.dedup = new MapWindow(limits.dedupWindowMs, dedupMaxIds);
  }

  publish(eventId: string | undefined, bytes: number, nowMs: number): number | 'duplicate' {
    if (eventId !== undefined && this.dedup.isDuplicate(eventId, nowMs)) return 'duplicate';
    const seq = ++this.headSeq;
    this.events.push({ seq, eventId, bytes, acceptedAtMs: nowMs });
    this.bytes += bytes;
    if (eventId !== undefined) {
      this.seqByEventId.set(eventId, seq);
      this.dedup.added(eventId, nowMs, seq);
    }
    this.trim(nowMs);
    return seq;
  }

  locate(eventId: string, nowMs: number): number | undefined {
    this.trim(nowMs);
    return this.seqByEventId.get(eventId);
  }

  retainedSeqs(): number[] {
    return this.events.map((e) => e.seq);
  }

  private trim(nowMs: number): void {
    const oldestKeptMs = nowMs - this.limits.historyMaxAgeMs;
    while (this.events.length > 0) {
      const e = this.events[0]!;
      const overCount = this.events.length > this.limits.historyMaxEvents;
      const overBytes = this.bytes > this.limits.historyMaxBytes;
      if (!overCount && !overBytes && e.acceptedAtMs > oldestKeptMs) break;
      this.bytes -= e.bytes;
      if (e.eventId !== undefined && this.seqByEventId.get(e.eventId) === e.seq) this.seqByEventId.delete(e.eventId);
      this.events.shift();
    }
    this.dedup.forgetExpired(nowMs);
  }
}
