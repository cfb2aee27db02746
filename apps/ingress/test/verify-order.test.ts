import { describe, expect, it } from 'vitest';
import { groupAtMessage, idOf } from '@hookway/testkit';
import { createVerifyPool, type DispatchVerifier, type VerifierVerdict } from '../src/verifier.ts';
import { ingressFixture, SECRET } from './harness.ts';

const { start } = ingressFixture();
const OTHER = 'naOC0ocQE3shWLAfffVLB1rhYPG7';

/**
 * The real pool, watched: which event ids were handed to it, in order, per bot (acceptance order), and a way to wait
 * for the n-th. `hold` may keep a verdict back until a promise settles.
 */
function watched(inner: DispatchVerifier, hold?: (id: string) => Promise<unknown> | undefined) {
  const calls: { bot: string; id: string }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const verdicts = new Map<string, Promise<VerifierVerdict>>();
  const verifier: DispatchVerifier = {
    threads: inner.threads,
    verify: (secret, timestamp, signature, body) => {
      const id = idOf(body.toString('utf8')) ?? '';
      calls.push({ bot: secret.reveal(), id });
      for (const w of waiters.filter((w) => calls.length >= w.n)) w.resolve();
      const verdict = Promise.resolve(inner.verify(secret, timestamp, signature, body));
      verdicts.set(id, verdict);
      const held = hold?.(id);
      return held ? Promise.all([verdict, held]).then(([v]) => v) : verdict;
    },
    close: () => inner.close(),
  };
  return {
    verifier,
    calls,
    verdictOf: (id: string) => verdicts.get(id)!,
    called: (n: number) => new Promise<void>((resolve) => (calls.length >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

/** A ~`bytes` event: a bigger body takes longer to hash and verify. */
const eventOf = (bytes: number) => {
  const body = groupAtMessage();
  return body.replace('"content":"', `"content":"${'x'.repeat(Math.max(0, bytes - body.length))}`);
};

describe('events verified on the pool keep their acceptance order per bot', () => {
  it('a later webhook whose verdict comes back first is published after the earlier one', async () => {
    // The earlier verdict is held back until the later one is known and a full event-loop turn has passed: time
    // enough for the later event to be published, were nothing keeping it in line.
    const w = watched(createVerifyPool({ threads: 2 }), (id) =>
      id === earlierId ? w.called(2).then(() => w.verdictOf(laterId).then(() => new Promise((r) => setImmediate(r)))) : undefined,
    );
    const [earlier, later] = [eventOf(300_000), eventOf(600)];
    const [earlierId, laterId] = [idOf(earlier), idOf(later)];
    const r = await start({}, { verifier: w.verifier });
    const first = r.sender().dispatch(earlier);
    await w.called(1);
    const second = r.sender().dispatch(later);
    await w.called(2);
    // The later verdict is known while the earlier one is still held back.
    expect(await w.verdictOf(laterId)).toEqual({ ok: true });
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(await r.accepted()).toEqual([earlier, later]);
  });

  it('under concurrency, with big and small bodies for two bots, each bot’s log is in acceptance order', async () => {
    const w = watched(createVerifyPool({ threads: 2 }));
    const r = await start({}, { verifier: w.verifier });
    const sends: Promise<{ status: number }>[] = [];
    for (let i = 0; i < 12; i++) {
      for (const secret of [SECRET, OTHER]) {
        // Big, then small, alternating: the big one's verdict takes longer, and the small one is read after it.
        sends.push(r.sender(secret).dispatch(eventOf(i % 2 === 0 ? 200_000 : 600)));
      }
      // Never more than a few in flight, so bodies are read while others are being verified.
      if (i % 3 === 2) await w.called(sends.length);
    }
    expect((await Promise.all(sends)).map((s) => s.status)).toEqual(sends.map(() => 200));
    for (const secret of [SECRET, OTHER]) {
      const acceptedIds = w.calls.filter((c) => c.bot === secret).map((c) => c.id);
      expect((await r.accepted(secret)).map((b) => idOf(b))).toEqual(acceptedIds);
    }
  });

  it('closing the ingress with signatures in flight answers (and publishes) every one, then refuses with 503', async () => {
    const w = watched(createVerifyPool({ threads: 1 }));
    const r = await start({}, { verifier: w.verifier });
    const bodies = Array.from({ length: 20 }, () => eventOf(600));
    const sends = bodies.map((b) => r.sender().dispatch(b));
    await w.called(bodies.length);
    await r.ingress.close();
    expect((await Promise.all(sends)).map((s) => s.status)).toEqual(bodies.map(() => 200));
    expect(new Set(await r.accepted())).toEqual(new Set(bodies));
    const late = await r.sender().dispatch(eventOf(600));
    expect(late.status).toBe(503);
    expect(late.json()).toMatchObject({ error: 'shutting_down' });
  });

  it('a full pool queue is answered 503 verify_busy with Retry-After, never left unanswered', async () => {
    // The pool's own bound is tested in verifier.test.ts; here, what the platform is told when it is reached.
    const busy: DispatchVerifier = { threads: 1, verify: async () => ({ ok: false, reason: 'busy' }), close: async () => {} };
    const r = await start({}, { verifier: busy });
    const refused = await r.sender().dispatch(eventOf(600));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json()).toMatchObject({ error: 'verify_busy', message: expect.stringMatching(/VERIFY_THREADS/) });
    expect(await r.accepted()).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ webhooksAccepted: 0, webhooksUnavailable: 1, webhooksRejected: 0 });
    expect(r.logs.join('')).toMatch(/verify pool is full/);
  });
});
