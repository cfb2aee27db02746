import { verify as cryptoVerify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkDispatchHeaders, keysForSecret, verifyDispatch, type AppSecret, type BotKeys, type DispatchVerdict } from '@hookway/protocol';

/**
 * A webhook's signature verdict, or why it could not be checked now: the pool's queue is full (`busy`) or it is
 * closing (`closed`). Both of those are answered 503 so that the platform retries; neither is the sender's fault.
 */
export type VerifierVerdict = DispatchVerdict | { ok: false; reason: 'busy' | 'closed' };

/**
 * Checks op 0 signatures (`X-Signature-Ed25519` over `X-Signature-Timestamp ‖ raw body`). Inline it answers at once;
 * a pool answers later, on another thread. Never rejects: every outcome is a verdict.
 */
export interface DispatchVerifier {
  /** Worker threads verifying (0: inline, on the caller's thread). */
  readonly threads: number;
  verify(
    secret: AppSecret,
    timestamp: string | undefined,
    signatureHex: string | undefined,
    rawBody: Buffer,
  ): VerifierVerdict | Promise<VerifierVerdict>;
  /** Answers everything already handed in, then stops the threads. Later calls get `closed`. */
  close(): Promise<void>;
}

/** VERIFY_THREADS → threads: `auto` is one fewer than the cores this process may run on (taskset counts), 0 on one core. */
export function verifyThreadCount(setting: 'auto' | number, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return cores <= 1 ? 0 : Math.min(cores - 1, AUTO_THREADS_MAX);
}
/** Past this the main thread is the limit anyway (docs/benchmarks.md). */
const AUTO_THREADS_MAX = 16;

/** VERIFY_THREADS=0, and the pool's own answer to the shape checks: node:crypto on the calling thread. */
export function inlineVerifier(): DispatchVerifier {
  let closed = false;
  return {
    threads: 0,
    verify: (secret, timestamp, signatureHex, rawBody) =>
      closed ? { ok: false, reason: 'closed' } : verifyDispatch(secret.reveal(), timestamp, signatureHex, rawBody),
    close: async () => {
      closed = true;
    },
  };
}

export interface VerifyPoolOptions {
  readonly threads: number;
  /** Signatures handed in and not yet answered, at most; past it `busy` (503). */
  readonly queueMax?: number;
  /** Told when a thread died and was replaced (its signatures were answered `busy`). */
  readonly onThreadError?: (err: unknown) => void;
  /** How long after a thread died its replacement starts (1 s). */
  readonly restartDelayMs?: number;
  /** The threads' code; tests only (a thread that dies). */
  readonly threadSource?: string;
  /** Signatures per message to a thread, at most (BATCH_MAX). */
  readonly batchMax?: number;
  /** See `verifiedHere`: outstanding signatures per thread past which this thread helps (SHARE_DEPTH; 0: never). */
  readonly shareDepth?: number;
}

/**
 * Why batches are bounded: a thread answers a batch only when all of it is verified. With every signature of a turn in
 * one batch, the main thread waits idle for the whole batch (32 × ~100 µs at 32 in flight), then the thread waits idle
 * while the main thread answers those 32 and reads the next: the two take turns instead of working at once, and a
 * second core adds nothing. Batches of 8 come back while the thread goes on with the next, for ~1 µs more of the main
 * thread's time per signature (one message per 8 instead of per 32).
 */
export const BATCH_MAX = 8;

/**
 * SHARE_DEPTH: a thread with this many signatures outstanding has ~2 ms of work queued (3 batches at ~90 µs each) — the
 * threads, not the main thread, are then what holds webhooks up. Measured with one thread on two cores (32 in flight):
 * the main thread was idle ~45 % of the time while the thread was busy ~77 %, waiting for verdicts it could have
 * computed itself (docs/benchmarks.md, "every core").
 */
export const SHARE_DEPTH = 3 * BATCH_MAX;

/**
 * SHARE_BYTES_MAX: the most body bytes the main thread hashes for the share in one turn. Bodies may be up to
 * MAX_BODY_BYTES, and the signature is the authentication, so a flood of large forged bodies would otherwise cost the
 * main thread ~1.5 ms per MiB.
 */
export const SHARE_BYTES_MAX = 64 * 1024;

/** When the main thread helps the verify threads, and how much it takes at most in one turn. */
export interface ShareRule {
  /** Outstanding signatures per thread past which the threads are the limit (SHARE_DEPTH; 0: never share). */
  readonly depth: number;
  /** Signatures verified here per turn, at most (BATCH_MAX: ~0.7 ms). */
  readonly maxSignatures: number;
  /** Signed bytes (timestamp and body) verified here per turn, at most (SHARE_BYTES_MAX). */
  readonly maxBytes: number;
}

/**
 * How many of a turn's newest signatures the calling (main) thread verifies itself instead of queueing them: those
 * that would take every thread past `depth` outstanding, within the rule's per-turn bounds (so the main thread's
 * other work — answering webhooks, fan-out — never waits behind a burst's verification). `waiting` is the turn's
 * signatures, oldest first; `signedBytesOf` is read only for those that may be verified here. At ordinary rates the
 * threads are never that deep and the main thread verifies nothing.
 */
export function verifiedHere<T>(
  waiting: readonly T[],
  signedBytesOf: (item: T) => number,
  outstanding: readonly number[],
  rule: ShareRule,
): number {
  if (rule.depth <= 0) return 0;
  let room = 0;
  for (const jobs of outstanding) room += Math.max(0, rule.depth - jobs);
  const surplus = Math.min(rule.maxSignatures, Math.max(0, waiting.length - room));
  let count = 0;
  let bytes = 0;
  while (count < surplus) {
    const size = signedBytesOf(waiting[waiting.length - 1 - count]!);
    if (bytes + size > rule.maxBytes) break;
    bytes += size;
    count++;
  }
  return count;
}

/**
 * A verify thread's heap: it holds a few small objects per batch (bodies arrive in one transferred buffer, outside
 * the heap) and up to 1024 public keys. Without limits each thread's young generation grows like the main thread's,
 * ~10 MiB of RSS per thread for nothing; a thread that ever hit these would be replaced (its signatures answered 503).
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };

const RESTART_DELAY_MS = 1000;

/** Per thread: enough for any burst the body budget lets in, small enough that a verdict never waits seconds. */
export const QUEUE_PER_THREAD = 1024;

/**
 * The pool's thread: verifies batches of `[32-byte public key][64-byte signature][u32 LE length][timestamp ‖ body]`
 * records and answers one byte per record (1 valid, 0 not, 2 unreadable). It sees public keys only, never a secret.
 * Plain JavaScript run with `eval`, so the one-file build needs no second file. Nothing it is sent can throw out of
 * the handler: a record that cannot be read is answered 2, and so is every record after it.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEYS_MAX = 1024;
const keys = new Map();
function keyFor(raw) {
  const id = raw.toString('latin1');
  let key = keys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
    keys.set(id, key);
    if (keys.size > KEYS_MAX) keys.delete(keys.keys().next().value);
  }
  return key;
}
parentPort.on('message', (batch) => {
  const count = batch && Number.isSafeInteger(batch.count) && batch.count > 0 ? Math.min(batch.count, 1 << 20) : 0;
  const results = new Uint8Array(count).fill(2);
  try {
    const data = Buffer.from(batch.buffer);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 100 > data.length) break;
      const length = data.readUInt32LE(at + 96);
      if (at + 100 + length > data.length) break;
      try {
        results[i] = verify(null, data.subarray(at + 100, at + 100 + length), keyFor(data.subarray(at, at + 32)), data.subarray(at + 32, at + 96)) ? 1 : 0;
      } catch {
        results[i] = 2;
      }
      at += 100 + length;
    }
  } catch {}
  parentPort.postMessage(results, [results.buffer]);
});
`;

interface Job {
  /** The bot's keys: the raw public key goes to the thread, the KeyObject serves the inline fallback. */
  readonly keys: BotKeys;
  readonly signature: Buffer;
  readonly timestamp: string;
  readonly body: Buffer;
  readonly resolve: (verdict: VerifierVerdict) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, oldest first (a thread answers in order). */
  readonly inFlight: Job[][];
  jobs: number;
}

/** What the signature covers: timestamp ‖ body. */
const signedBytesOf = (job: Job) => job.timestamp.length + job.body.length;

const OK: VerifierVerdict = { ok: true };
const BAD: VerifierVerdict = { ok: false, reason: 'bad_signature' };
const BUSY: VerifierVerdict = { ok: false, reason: 'busy' };
const CLOSED: VerifierVerdict = { ok: false, reason: 'closed' };

/**
 * Verification on `threads` worker threads. Signatures handed in during one event-loop turn go out together, in
 * transferred buffers of at most `batchMax` signatures (BATCH_MAX), each to the thread with the fewest outstanding. The header checks run here first, inline: a malformed header never costs a copy.
 */
export function createVerifyPool(options: VerifyPoolOptions): DispatchVerifier {
  const queueMax = options.queueMax ?? QUEUE_PER_THREAD * options.threads;
  const batchMax = options.batchMax ?? BATCH_MAX;
  const share: ShareRule = { depth: options.shareDepth ?? SHARE_DEPTH, maxSignatures: batchMax, maxBytes: SHARE_BYTES_MAX };
  const threads: Thread[] = [];
  let waiting: Job[] = [];
  let outstanding = 0;
  let flushScheduled = false;
  let closing = false;
  let drained: (() => void) | undefined;

  const settle = (job: Job, verdict: VerifierVerdict) => {
    outstanding--;
    job.resolve(verdict);
    if (outstanding === 0) drained?.();
  };

  /** On this thread: with no thread left (until a replacement starts), and the share of `verifiedHere`. */
  const verifyOnThisThread = (job: Job) => {
    const message = Buffer.concat([Buffer.from(job.timestamp, 'latin1'), job.body]);
    settle(job, cryptoVerify(null, message, job.keys.publicKey, job.signature) ? OK : BAD);
  };

  const start = (): Thread => {
    const thread: Thread = {
      worker: new Worker(options.threadSource ?? WORKER_SOURCE, { eval: true, resourceLimits: THREAD_LIMITS }),
      inFlight: [],
      jobs: 0,
    };
    thread.worker.unref();
    thread.worker.on('message', (results: Uint8Array) => {
      const batch = thread.inFlight.shift();
      if (!batch) return;
      thread.jobs -= batch.length;
      batch.forEach((job, i) => settle(job, results[i] === 1 ? OK : results[i] === 0 ? BAD : BUSY));
    });
    // A thread that dies (out of memory, a bug) answers its signatures `busy` — the platform retries — and is
    // replaced a second later (never in a tight loop, should threads keep dying); with none left, verification runs
    // inline meanwhile.
    const lost = (err: unknown) => {
      const index = threads.indexOf(thread);
      if (index === -1) return;
      threads.splice(index, 1);
      for (const batch of thread.inFlight.splice(0)) for (const job of batch) settle(job, BUSY);
      thread.jobs = 0;
      if (closing) return;
      options.onThreadError?.(err);
      setTimeout(() => {
        if (!closing) threads.push(start());
      }, options.restartDelayMs ?? RESTART_DELAY_MS).unref();
    };
    thread.worker.on('error', lost);
    thread.worker.on('exit', (code) => lost(new Error(`verify thread exited with code ${code}`)));
    return thread;
  };
  for (let i = 0; i < options.threads; i++) threads.push(start());

  const flush = () => {
    flushScheduled = false;
    const jobs = waiting;
    waiting = [];
    if (jobs.length === 0) return;
    if (threads.length === 0) {
      for (const job of jobs) verifyOnThisThread(job);
      return;
    }
    // The turn's newest: the bot sequencer publishes them after the older ones the threads still hold, as ever.
    const outstandingByThread = threads.map((t) => t.jobs);
    const here = jobs.splice(jobs.length - verifiedHere(jobs, signedBytesOf, outstandingByThread, share));
    const per = Math.min(Math.ceil(jobs.length / threads.length), batchMax);
    for (let from = 0; from < jobs.length; from += per) {
      const batch = jobs.slice(from, from + per);
      let bytes = 0;
      for (const job of batch) bytes += 100 + signedBytesOf(job);
      // Its own ArrayBuffer (never the shared pool), so it can be transferred rather than copied again.
      const buffer = Buffer.allocUnsafeSlow(bytes);
      let at = 0;
      for (const job of batch) {
        job.keys.publicKeyRaw.copy(buffer, at);
        job.signature.copy(buffer, at + 32);
        buffer.writeUInt32LE(signedBytesOf(job), at + 96);
        at += 100 + buffer.write(job.timestamp, at + 100, 'latin1');
        at += job.body.copy(buffer, at);
      }
      let thread = threads[0]!;
      for (const t of threads) if (t.jobs < thread.jobs) thread = t;
      try {
        thread.worker.postMessage({ buffer: buffer.buffer, count: batch.length }, [buffer.buffer]);
      } catch {
        // A thread that cannot be reached now (it is exiting): answer `busy` rather than leave them waiting.
        for (const job of batch) settle(job, BUSY);
        continue;
      }
      thread.inFlight.push(batch);
      thread.jobs += batch.length;
    }
    for (const job of here) verifyOnThisThread(job);
  };

  return {
    threads: options.threads,
    verify(secret, timestamp, signatureHex, rawBody) {
      if (closing) return CLOSED;
      const headers = checkDispatchHeaders(timestamp, signatureHex);
      if (!headers.ok) return headers;
      if (outstanding >= queueMax) return BUSY;
      outstanding++;
      const keys = keysForSecret(secret.reveal());
      return new Promise<VerifierVerdict>((resolve) => {
        waiting.push({ keys, signature: headers.signature, timestamp: headers.timestamp, body: rawBody, resolve });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      if (closing) return;
      closing = true;
      flush();
      if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}

/** The verifier VERIFY_THREADS asks for: inline for 0, else a pool of that many threads. */
export function createVerifier(setting: 'auto' | number, onThreadError?: (err: unknown) => void): DispatchVerifier {
  const threads = verifyThreadCount(setting);
  return threads === 0 ? inlineVerifier() : createVerifyPool({ threads, ...(onThreadError ? { onThreadError } : {}) });
}
