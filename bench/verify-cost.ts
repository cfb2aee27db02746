/**
 * CPU per verified signature, on the main thread and in all, for the ways VERIFY_THREADS could work (issue 11,
 * target 4): inline node:crypto, node:crypto's async verify on libuv's threadpool, and apps/ingress's worker pool.
 * Signatures of ~600-byte S1 bodies are kept IN_FLIGHT (32) at a time, as the load generator does.
 *
 *   UV_THREADPOOL_SIZE=2 node --import tsx bench/verify-cost.ts [events=20000]
 *
 * CPU time, not wall time, is the figure: it holds on a busy machine. Linux only (the main thread's
 * /proc/self/task/<pid>/schedstat).
 */
import { verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppSecret, checkDispatchHeaders, keysForSecret, signDispatch } from '@hookway/protocol';
import { groupAtMessage } from '@hookway/testkit';
import { createVerifyPool, inlineVerifier, type DispatchVerifier, type VerifierVerdict } from '../apps/ingress/src/verifier.ts';

const EVENTS = Number(process.argv[2] ?? 20_000);
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 32);
const secret = AppSecret.of('BenchSecret0123456789');
const timestamp = String(Math.floor(Date.now() / 1000));
const bodies = Array.from({ length: 64 }, (_, i) => Buffer.from(groupAtMessage({ id: `cost${i}` })));
const signatures = bodies.map((b) => signDispatch(secret.reveal(), timestamp, b));

const mainThreadUs = () => Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;

/** libuv's threadpool: node:crypto's callback form (UV_THREADPOOL_SIZE threads, shared with fs and dns). */
function libuvVerifier(): DispatchVerifier {
  return {
    threads: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    verify: (s, ts, sig, body) => {
      const headers = checkDispatchHeaders(ts, sig);
      if (!headers.ok) return headers;
      const message = Buffer.concat([Buffer.from(headers.timestamp, 'latin1'), body]);
      return new Promise<VerifierVerdict>((resolve) =>
        cryptoVerify(null, message, keysForSecret(s.reveal()).publicKey, headers.signature, (err, ok) =>
          resolve(!err && ok ? { ok: true } : { ok: false, reason: 'bad_signature' }),
        ),
      );
    },
    close: async () => {},
  };
}

async function measure(name: string, verifier: DispatchVerifier): Promise<void> {
  let next = 0;
  let failures = 0;
  const run = async (count: number) => {
    const one = async () => {
      while (next < count) {
        const i = next++ % bodies.length;
        // Each request's body arrives on its own turn in the server; a timer hop keeps batches realistic.
        await new Promise<void>((r) => setImmediate(r));
        const verdict = await verifier.verify(secret, timestamp, signatures[i], bodies[i]!);
        if (!verdict.ok) failures++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, one));
  };
  await run(2000); // warm-up
  next = 0;
  const cpu = process.cpuUsage();
  const main = mainThreadUs();
  const startedMs = performance.now();
  await run(EVENTS);
  const wallMs = performance.now() - startedMs;
  const used = process.cpuUsage(cpu);
  await verifier.close();
  process.stdout.write(
    `${JSON.stringify({
      verifier: name,
      mainThreadUsPerEvent: Number(((mainThreadUs() - main) / EVENTS).toFixed(1)),
      allThreadsUsPerEvent: Number(((used.user + used.system) / EVENTS).toFixed(1)),
      wallUsPerEvent: Number(((wallMs * 1000) / EVENTS).toFixed(1)),
      failures,
    })}\n`,
  );
}

// The loop's own cost (a timer hop and an await per signature): subtract it from the others.
await measure('none (the loop alone)', { threads: 0, verify: () => ({ ok: true }), close: async () => {} });
await measure('inline', inlineVerifier());
await measure(`libuv threadpool (UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4})`, libuvVerifier());
for (const threads of [1, 2, 4]) await measure(`worker pool, ${threads} thread(s)`, createVerifyPool({ threads }));
