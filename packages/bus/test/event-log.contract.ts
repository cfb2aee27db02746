import { afterEach, describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { until } from '@hookway/testkit';
import type { BusEvent, EventLog, HistoryLimits } from '../src/index.ts';

/**
 * The behaviour every EventLog implementation must have. Time-based cases use real time with short windows,
 * because a Redis TTL cannot be driven by a fake clock.
 */
export type EventLogFactory = (limits: HistoryLimits) => Promise<EventLog>;

const DEFAULT_LIMITS: HistoryLimits = {
  historyMaxEvents: 1000,
  historyMaxAgeMs: 60_000,
  historyMaxBytes: 1 << 20,
  dedupWindowMs: 60_000,
};

const body = (text: string) => Buffer.from(text, 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let botCounter = 0;
/** Unique per test so implementations with shared storage (Redis) never see another test's data. */
const freshBot = () => AppSecret.of(`contractBot${process.pid}x${Date.now().toString(36)}x${++botCounter}`);

export function eventLogContract(name: string, makeLog: EventLogFactory): void {
  describe(`EventLog contract: ${name}`, () => {
    const open: EventLog[] = [];
    const bus = async (limits: Partial<HistoryLimits> = {}) => {
      const b = await makeLog({ ...DEFAULT_LIMITS, ...limits });
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('numbers each bot’s events 1, 2, 3… independently of other bots', async () => {
      const b = await bus();
      const [x, y] = [freshBot(), freshBot()];
      const results = [
        await b.publish(x, { eventId: 'a', body: body('x1') }),
        await b.publish(y, { eventId: 'a', body: body('y1') }),
        await b.publish(x, { eventId: 'b', body: body('x2') }),
      ];
      const seqs = results.map((r) => (r.status === 'accepted' ? r.position.seq : -1));
      expect(seqs).toEqual([1, 1, 2]);
      expect((await b.history(x)).events.map((e) => e.body.toString())).toEqual(['x1', 'x2']);
      expect((await b.history(y)).events.map((e) => e.body.toString())).toEqual(['y1']);
    });

    it('delivers live events to subscribers, byte-identical and in order, and only for their bot', async () => {
      const b = await bus();
      const [x, y] = [freshBot(), freshBot()];
      const got: BusEvent[] = [];
      const sub = await b.subscribe(x, (e) => got.push(e));
      const payloads = ['{"a":1}', '{ "spaced" : "你好" }\n', '{"b":[1,2,3]}'];
      await b.publish(y, { eventId: 'other', body: body('not for x') });
      for (const [i, p] of payloads.entries()) await b.publish(x, { eventId: `e${i}`, body: body(p) });
      await until(() => got.length === 3, 'three live events');
      expect(got.map((e) => e.body.toString())).toEqual(payloads);
      expect(got.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(got.map((e) => e.eventId)).toEqual(['e0', 'e1', 'e2']);
      await sub.close();
      await b.publish(x, { eventId: 'late', body: body('after close') });
      await sleep(50);
      expect(got).toHaveLength(3);
    });

    it('refuses a repeated event id within the dedup window: not stored, not announced', async () => {
      const b = await bus();
      const x = freshBot();
      const got: BusEvent[] = [];
      await b.subscribe(x, (e) => got.push(e));
      expect((await b.publish(x, { eventId: 'same', body: body('first') })).status).toBe('accepted');
      expect(await b.publish(x, { eventId: 'same', body: body('retry') })).toEqual({ status: 'duplicate' });
      await b.publish(x, { eventId: 'next', body: body('second') });
      await until(() => got.length === 2, 'two live events');
      await sleep(30);
      expect(got.map((e) => e.body.toString())).toEqual(['first', 'second']);
      expect((await b.history(x)).events.map((e) => e.seq)).toEqual([1, 2]);
    });

    it('accepts the same id again once the dedup window has passed', async () => {
      const b = await bus({ dedupWindowMs: 200 });
      const x = freshBot();
      await b.publish(x, { eventId: 'same', body: body('first') });
      await sleep(350);
      expect((await b.publish(x, { eventId: 'same', body: body('much later') })).status).toBe('accepted');
      // The later event holds the id now: its own retry is a duplicate.
      expect(await b.publish(x, { eventId: 'same', body: body('its retry') })).toEqual({ status: 'duplicate' });
    });

    it('accepts events without an id and never treats them as duplicates', async () => {
      const b = await bus();
      const x = freshBot();
      expect((await b.publish(x, { body: body('anon') })).status).toBe('accepted');
      expect((await b.publish(x, { body: body('anon') })).status).toBe('accepted');
      expect((await b.history(x)).events).toHaveLength(2);
    });

    it('returns exactly the events after a cursor, marked complete', async () => {
      const b = await bus();
      const x = freshBot();
      for (let i = 1; i <= 5; i++) await b.publish(x, { eventId: `id${i}`, body: body(`e${i}`) });
      const all = await b.history(x);
      expect(all.complete).toBe(true);
      expect(all.head.seq).toBe(5);
      const after2 = await b.history(x, { epoch: all.head.epoch, seq: 2 });
      expect(after2.complete).toBe(true);
      expect(after2.events.map((e) => e.body.toString())).toEqual(['e3', 'e4', 'e5']);
      const atHead = await b.history(x, all.head);
      expect(atHead).toMatchObject({ complete: true, events: [] });
    });

    it('locates retained events by id, and nothing else', async () => {
      const b = await bus();
      const x = freshBot();
      await b.publish(x, { eventId: 'first', body: body('1') });
      await b.publish(x, { eventId: 'second', body: body('2') });
      const head = (await b.history(x)).head;
      expect(await b.locate(x, 'second')).toEqual({ epoch: head.epoch, seq: 2 });
      expect(await b.locate(x, 'never-sent')).toBeUndefined();
      expect(await b.locate(freshBot(), 'first')).toBeUndefined();
    });

    it('reports a cursor from another epoch as incomplete and returns all it has', async () => {
      const b = await bus();
      const x = freshBot();
      await b.publish(x, { eventId: 'a', body: body('a') });
      const slice = await b.history(x, { epoch: 'not-this-epoch', seq: 1 });
      expect(slice.complete).toBe(false);
      expect(slice.events.map((e) => e.body.toString())).toEqual(['a']);
    });

    it('keeps at most historyMaxEvents and reports a trimmed cursor as incomplete', async () => {
      const b = await bus({ historyMaxEvents: 3 });
      const x = freshBot();
      for (let i = 1; i <= 6; i++) await b.publish(x, { eventId: `id${i}`, body: body(`e${i}`) });
      const all = await b.history(x);
      expect(all.events.map((e) => e.seq)).toEqual([4, 5, 6]);
      expect(await b.locate(x, 'id2')).toBeUndefined();
      const fromTrimmed = await b.history(x, { epoch: all.head.epoch, seq: 2 });
      expect(fromTrimmed.complete).toBe(false);
      expect(fromTrimmed.events.map((e) => e.seq)).toEqual([4, 5, 6]);
      const fromEdge = await b.history(x, { epoch: all.head.epoch, seq: 3 });
      expect(fromEdge.complete).toBe(true);
    });

    it('drops events older than historyMaxAgeMs', async () => {
      // 'new' must still be younger than the window when it is read back: a window of a few round trips is not.
      const b = await bus({ historyMaxAgeMs: 500 });
      const x = freshBot();
      await b.publish(x, { eventId: 'old', body: body('old') });
      await sleep(650);
      await b.publish(x, { eventId: 'new', body: body('new') });
      const slice = await b.history(x);
      expect(slice.events.map((e) => e.body.toString())).toEqual(['new']);
      expect((await b.history(x, { epoch: slice.head.epoch, seq: 0 })).complete).toBe(false);
    });

    it('returns events that follow a long run of aged-out events nobody trimmed yet', async () => {
      const b = await bus({ historyMaxAgeMs: 1500, historyMaxEvents: 5000 });
      const x = freshBot();
      await Promise.all(Array.from({ length: 700 }, (_, i) => b.publish(x, { eventId: `old${i}`, body: body(`old${i}`) })));
      const oldStored = Date.now();
      await sleep(1100);
      await b.publish(x, { eventId: 'late', body: body('late') });
      // Read once the 700 are certainly older than 1.5 s: 'late' is ~0.5 s old then, a margin for a slow read.
      await sleep(oldStored + 1600 - Date.now());
      // The 700 are older than 1.5 s now, 'late' is not; no publish has trimmed since.
      const slice = await b.history(x);
      expect(slice.events.map((e) => e.body.toString())).toEqual(['late']);
      expect((await b.locate(x, 'late'))?.seq).toBe(701);
      const fromOld = await b.history(x, { epoch: slice.head.epoch, seq: 300 });
      expect(fromOld.complete).toBe(false);
      expect(fromOld.events.map((e) => e.body.toString())).toEqual(['late']);
    });

    it('keeps the history within historyMaxBytes', async () => {
      const b = await bus({ historyMaxBytes: 1000 });
      const x = freshBot();
      for (let i = 0; i < 10; i++) await b.publish(x, { eventId: `big${i}`, body: Buffer.alloc(300, 65) });
      const kept = (await b.history(x)).events;
      expect(kept.reduce((n, e) => n + e.body.length, 0)).toBeLessThanOrEqual(1000);
      expect(kept.map((e) => e.seq)).toEqual([8, 9, 10]);
    });

    it('numbers concurrent publishes contiguously, with history order equal to live order', async () => {
      const b = await bus();
      const x = freshBot();
      const live: number[] = [];
      await b.subscribe(x, (e) => live.push(e.seq));
      await Promise.all(Array.from({ length: 200 }, (_, i) => b.publish(x, { eventId: `c${i}`, body: body(`c${i}`) })));
      await until(() => live.length === 200, '200 live events');
      const seqs = (await b.history(x)).events.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(live).toEqual(seqs);
    });

    it('remembers the furthest delivered position and ignores older ones', async () => {
      const b = await bus();
      const x = freshBot();
      expect(await b.deliveredPosition(x)).toBeUndefined();
      for (let i = 1; i <= 3; i++) await b.publish(x, { eventId: `d${i}`, body: body(`d${i}`) });
      const { epoch } = (await b.history(x)).head;
      await b.markDelivered(x, { epoch, seq: 2 });
      await b.markDelivered(x, { epoch, seq: 1 });
      expect(await b.deliveredPosition(x)).toEqual({ epoch, seq: 2 });
    });

    it('answers marks asked for together once the furthest of them is recorded, whatever their order', async () => {
      const b = await bus();
      const x = freshBot();
      for (let i = 1; i <= 5; i++) await b.publish(x, { eventId: `m${i}`, body: body(`m${i}`) });
      const { epoch } = (await b.history(x)).head;
      await Promise.all([3, 1, 5, 2, 4].map((seq) => b.markDelivered(x, { epoch, seq })));
      expect(await b.deliveredPosition(x)).toEqual({ epoch, seq: 5 });
    });

    it('reports the head position: nothing before the first event, then the last number assigned', async () => {
      const b = await bus();
      const x = freshBot();
      expect(await b.head(x)).toEqual({ epoch: '', seq: 0 });
      await b.publish(x, { eventId: 'h1', body: body('1') });
      await b.publish(x, { eventId: 'h2', body: body('2') });
      const head = await b.head(x);
      expect(head.seq).toBe(2);
      expect(head).toEqual((await b.history(x)).head);
    });

    it('reads long histories completely and in order (more than one page)', async () => {
      const b = await bus({ historyMaxEvents: 5000 });
      const x = freshBot();
      await Promise.all(Array.from({ length: 1234 }, (_, i) => b.publish(x, { eventId: `p${i}`, body: body(`p${i}`) })));
      const all = await b.history(x);
      expect(all.events.map((e) => e.seq)).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
      const tail = await b.history(x, { epoch: all.head.epoch, seq: 600 });
      expect(tail.complete).toBe(true);
      expect(tail.events.map((e) => e.seq)).toEqual(Array.from({ length: 634 }, (_, i) => i + 601));
    });

    it('refuses work after close and reports not ready', async () => {
      const b = await bus();
      expect(b.isReady()).toBe(true);
      await b.close();
      expect(b.isReady()).toBe(false);
      await expect(b.publish(freshBot(), { body: body('x') })).rejects.toThrow(/closed/);
      await expect(b.markDelivered(freshBot(), { epoch: 'e', seq: 1 })).rejects.toThrow(/closed/);
    });

    it('hands a check event only to the check subscribers of its nonce, never to a bot feed or the history', async () => {
      const b = await bus();
      const x = freshBot();
      const [nonce, other] = [`n${'A'.repeat(30)}${++botCounter}`, `n${'B'.repeat(30)}${++botCounter}`];
      const feed: string[] = [];
      const checked: string[] = [];
      const elsewhere: string[] = [];
      await b.subscribe(x, (e) => feed.push(e.body.toString()));
      const subscription = await b.subscribeCheck(nonce, (bytes) => checked.push(bytes.toString()));
      await b.subscribeCheck(other, (bytes) => elsewhere.push(bytes.toString()));
      const check = `{"op":-1,"t":"HOOKWAY_CHECK","d":{"nonce":"${nonce}"}}`;
      expect(await b.publishCheck(nonce, body(check))).toBe(1);
      await until(() => checked.length === 1, 'the check event');
      expect(checked).toEqual([check]);
      // A real event after it: had the check event reached the bot's feed, it would have come first.
      await b.publish(x, { eventId: 'real', body: body('real') });
      await until(() => feed.length === 1, 'the real event');
      expect(feed).toEqual(['real']);
      expect(elsewhere).toEqual([]);
      expect((await b.history(x)).events.map((e) => e.body.toString())).toEqual(['real']);
      await subscription.close();
      expect(await b.publishCheck(nonce, body(check))).toBe(0);
    });
  });
}
