import { afterEach, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { AppSecret, deriveSeed, signDispatch } from '@hookway/protocol';
import { BATCH_MAX, createVerifyPool, inlineVerifier, verifiedHere, verifyThreadCount, type DispatchVerifier } from '../src/verifier.ts';
import { V4 } from './vectors.ts';
import { SECRET } from './harness.ts';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
/** qq-protocol.md §2.7 V3: the official SDK's op 0 vector. */
const V3 = {
  secret: '123456abcdef',
  timestamp: '1728981195',
  body: '{"id":"ROBOT1.0_veoihSEXDc8Q.g-6eLpNIa11bH8MisOjn-m-LKxCPntMk6exUXgcWCGpVO7L2QKTNZzjZzFFDSbiOFcqAPWyVA!!","content":"哦一下","timestamp":"2024-10-15T16:33:15+08:00","author":{"id":"675860273","user_openid":"675860273"}}',
  signature:
    'e949b5b94ef4103df903fb031d1d16e358db3db83e79e117edd404c8508be3ce8a76d7bad1bed353194c126a1a5915b4ad8b5288c1191cc53a12acffccd82004',
};

const pools: DispatchVerifier[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});
const pool = (threads: number, queueMax?: number) => {
  const p = createVerifyPool({ threads, ...(queueMax !== undefined ? { queueMax } : {}) });
  pools.push(p);
  return p;
};

describe.each([
  ['inline', () => inlineVerifier()],
  ['a pool of 2 threads', () => pool(2)],
])('the verifier, %s', (_name, make) => {
  it('verifies the platform vectors V3 and V4', async () => {
    const v = make();
    expect(await v.verify(AppSecret.of(V3.secret), V3.timestamp, V3.signature, utf8(V3.body))).toEqual({ ok: true });
    expect(await v.verify(AppSecret.of(SECRET), V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: true });
  });

  it.each([
    ['a tampered body', SECRET, V4.timestamp, V4.signature, V4.body.replace('北京', '上海'), 'bad_signature'],
    ['another timestamp', SECRET, '1725442401', V4.signature, V4.body, 'bad_signature'],
    ['another secret', 'naOC0ocQE3shWLAfffVLB1rhYPG7', V4.timestamp, V4.signature, V4.body, 'bad_signature'],
    ['no signature', SECRET, V4.timestamp, undefined, V4.body, 'missing_signature'],
    ['a short signature', SECRET, V4.timestamp, 'abcd', V4.body, 'malformed_signature'],
    ['no timestamp', SECRET, undefined, V4.signature, V4.body, 'missing_timestamp'],
    ['a timestamp that is not digits', SECRET, '17254424OO', V4.signature, V4.body, 'malformed_timestamp'],
    ['a malleable S (top bits set)', SECRET, V4.timestamp, `${V4.signature.slice(0, 126)}ff`, V4.body, 'bad_signature'],
  ])('refuses %s', async (_case, secret, timestamp, signature, body, reason) => {
    const v = make();
    expect(await v.verify(AppSecret.of(secret), timestamp, signature, utf8(body))).toEqual({ ok: false, reason });
  });

  it('agrees with tweetnacl (an independent Ed25519) on signatures it made, over odd bodies', async () => {
    const v = make();
    const bodies = [Buffer.alloc(0), utf8('{"op":0,"d":{"content":"你好"}}'), Buffer.alloc(256 * 1024, 0x61), Buffer.from([0xff, 0xfe, 0])];
    for (const [i, secret] of ['123456abcdef', 'A'.repeat(40), SECRET].entries()) {
      const pair = nacl.sign.keyPair.fromSeed(new Uint8Array(deriveSeed(secret)));
      for (const body of bodies) {
        const ts = String(1725442400 + i);
        const sig = Buffer.from(nacl.sign.detached(new Uint8Array(Buffer.concat([utf8(ts), body])), pair.secretKey)).toString('hex');
        expect(await v.verify(AppSecret.of(secret), ts, sig, body)).toEqual({ ok: true });
        // One flipped bit of the body and it no longer verifies.
        const flipped = Buffer.from(body.length > 0 ? body : Buffer.from([0]));
        flipped[0]! ^= 1;
        expect(await v.verify(AppSecret.of(secret), ts, sig, flipped)).toEqual({ ok: false, reason: 'bad_signature' });
      }
    }
  });

  it('answers `closed` once closed', async () => {
    const v = make();
    await v.close();
    expect(await v.verify(AppSecret.of(SECRET), V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: false, reason: 'closed' });
  });
});

describe('the verify pool', () => {
  it('answers many signatures handed in at once, each with its own verdict, across its threads', async () => {
    const v = pool(2);
    const secret = AppSecret.of(SECRET);
    const ts = '1725442400';
    const jobs = Array.from({ length: 300 }, (_, i) => {
      const body = utf8(`{"op":0,"id":"E${i}","d":{"n":${i}}}`);
      const good = i % 3 !== 0;
      const sig = signDispatch(SECRET, ts, good ? body : utf8('something else'));
      return { good, verdict: v.verify(secret, ts, sig, body) };
    });
    const verdicts = await Promise.all(jobs.map(async (j) => j.verdict));
    expect(verdicts.map((x) => x.ok)).toEqual(jobs.map((j) => j.good));
  });

  it('bounds its queue: past queueMax a signature is answered `busy` at once, and room comes back', async () => {
    const v = pool(1, 2);
    const secret = AppSecret.of(SECRET);
    const first = v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body));
    const second = v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body));
    expect(v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: false, reason: 'busy' });
    expect(await first).toEqual({ ok: true });
    expect(await second).toEqual({ ok: true });
    expect(await v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: true });
  });

  it("hands a turn's signatures to a thread in batches of at most BATCH_MAX, so the thread is answered batch by batch", async () => {
    // A stand-in thread that answers `valid` for a batch within the bound and `unreadable` (→ busy) for a bigger one.
    const threadSource = `require('node:worker_threads').parentPort.on('message', (m) => {
      const results = new Uint8Array(m.count).fill(m.count <= ${BATCH_MAX} ? 1 : 2);
      require('node:worker_threads').parentPort.postMessage(results, [results.buffer]);
    });`;
    const v = createVerifyPool({ threads: 1, threadSource });
    pools.push(v);
    const secret = AppSecret.of(SECRET);
    const turn = Array.from({ length: BATCH_MAX * 3 + 1 }, () => v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body)));
    expect(await Promise.all(turn.map(async (x) => x))).toEqual(turn.map(() => ({ ok: true })));
  });

  it('answers every signature already handed in when closed, then refuses new ones', async () => {
    const v = pool(2);
    const secret = AppSecret.of(SECRET);
    const inFlight = Array.from({ length: 50 }, () => v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body)));
    const closed = v.close();
    expect(v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: false, reason: 'closed' });
    expect(await Promise.all(inFlight.map(async (x) => x))).toEqual(inFlight.map(() => ({ ok: true })));
    await closed;
  });
});

describe('the main thread shares the work once the threads are deep (verifiedHere)', () => {
  const rule = { depth: 24, maxSignatures: 8, maxBytes: 64 * 1024 };
  const small = (n: number) => Array.from({ length: n }, () => 700);
  it.each([
    ['nothing outstanding, a few waiting', small(5), [0], rule, 0],
    ['exactly filling the room', small(24), [0], rule, 0],
    ['one past the room', small(25), [0], rule, 1],
    ['a thread already at the depth', small(3), [24], rule, 3],
    ['a thread past the depth', small(3), [40], rule, 3],
    ['a burst: at most maxSignatures', small(200), [0], rule, 8],
    ['two threads, room left in one', small(10), [30, 20], rule, 6],
    ['two threads, room enough', small(10), [10, 20], rule, 0],
    ['sharing off (depth 0)', small(200), [500], { ...rule, depth: 0 }, 0],
    ['nothing waiting', [], [100], rule, 0],
    ['large bodies: only as many of the newest as fit in maxBytes', [700, 30_000, 30_000, 30_000], [24], rule, 2],
    ['the newest alone is past maxBytes: none here', [700, 700, 1024 * 1024], [24], rule, 0],
    ['bytes exactly at maxBytes', [32 * 1024, 32 * 1024], [24], rule, 2],
  ] as const)('%s', (_case, bodyBytes, outstanding, shareRule, here) => {
    expect(verifiedHere(bodyBytes, (bytes) => bytes, outstanding, shareRule)).toBe(here);
  });

  // A stand-in thread that answers every record `unreadable` (→ busy): a verdict that is not `busy` came from here.
  const unreadableThread = `require('node:worker_threads').parentPort.on('message', (m) => {
    const results = new Uint8Array(m.count).fill(2);
    require('node:worker_threads').parentPort.postMessage(results, [results.buffer]);
  });`;
  const turnOfFive = (v: DispatchVerifier) => {
    const secret = AppSecret.of(SECRET);
    const ts = '1725442400';
    return Array.from({ length: 5 }, (_, i) => {
      const body = utf8(`{"op":0,"id":"E${i}","d":{"n":${i}}}`);
      return v.verify(secret, ts, signDispatch(SECRET, ts, i === 3 ? utf8('something else') : body), body);
    });
  };

  it("verifies the turn's newest signatures itself past the depth, each with its own verdict", async () => {
    const v = createVerifyPool({ threads: 1, threadSource: unreadableThread, shareDepth: 2 });
    pools.push(v);
    const verdicts = await Promise.all(turnOfFive(v).map(async (x) => x));
    expect(verdicts).toEqual([
      { ok: false, reason: 'busy' },
      { ok: false, reason: 'busy' },
      { ok: true },
      { ok: false, reason: 'bad_signature' },
      { ok: true },
    ]);
  });

  it('hands everything to the threads with sharing off', async () => {
    const v = createVerifyPool({ threads: 1, threadSource: unreadableThread, shareDepth: 0 });
    pools.push(v);
    const verdicts = await Promise.all(turnOfFive(v).map(async (x) => x));
    expect(verdicts).toEqual(verdicts.map(() => ({ ok: false, reason: 'busy' })));
  });
});

describe('a verify thread that dies', () => {
  it('answers its signatures `busy` (never leaves them hanging), is reported, and verification goes on inline', async () => {
    const errors: unknown[] = [];
    let died!: () => void;
    const reported = new Promise<void>((r) => (died = r));
    const v = createVerifyPool({
      threads: 1,
      // Not replaced during the test, however slow the machine.
      restartDelayMs: 600_000,
      // Dies on its first batch, before answering it.
      threadSource: `require('node:worker_threads').parentPort.on('message', () => process.exit(3));`,
      onThreadError: (err) => {
        errors.push(err);
        died();
      },
    });
    pools.push(v);
    const secret = AppSecret.of(SECRET);
    expect(await v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: false, reason: 'busy' });
    await reported;
    expect(String(errors[0])).toMatch(/exited with code 3/);
    // No thread left until the replacement starts: signatures are checked on this thread meanwhile.
    expect(await v.verify(secret, V4.timestamp, V4.signature, utf8(V4.body))).toEqual({ ok: true });
    expect(await v.verify(secret, V4.timestamp, V4.signature, utf8(`${V4.body} `))).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('verifyThreadCount (VERIFY_THREADS)', () => {
  it.each([
    ['auto', 1, 0],
    ['auto', 2, 1],
    ['auto', 8, 7],
    ['auto', 64, 16],
    [0, 8, 0],
    [3, 1, 3],
  ] as const)('%s on %i cores → %i threads', (setting, cores, threads) => {
    expect(verifyThreadCount(setting, cores)).toBe(threads);
  });
});
