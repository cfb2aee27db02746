import { describe, expect, it } from 'vitest';
import { groupAtMessage, RawHttpConnection } from '@hookway/testkit';
import { ingressFixture, SECRET, type RunningIngress } from './harness.ts';

const { start } = ingressFixture();
const KiB = 1024;

/** Waits for a condition the server reaches on its own (a socket it saw close, a hold it took): polled, bounded. */
async function eventually(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A webhook POST whose headers promise `length` bytes, of which only `sent` are sent: it holds its share, stalled. */
async function stall(r: RunningIngress, from: string, length: number, sent = 100): Promise<RawHttpConnection> {
  const client = await RawHttpConnection.open(r.port, { localAddress: from });
  await client.write(
    `POST /webhook?secret=AttackerSecret99 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${'x'.repeat(sent)}`,
  );
  return client;
}

/** Headers only, the body never sent: whatever answers came before the body was read. */
async function headersOnly(r: RunningIngress, from: string, path = `/webhook?secret=${SECRET}`): Promise<RawHttpConnection> {
  const client = await RawHttpConnection.open(r.port, { localAddress: from });
  await client.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
  await client.closed;
  return client;
}

describe('failed authentication, throttled per client address (AUTH_FAILURES_PER_MINUTE)', () => {
  it('answers 429 with Retry-After before the body once an address is past its failures, and only that address', async () => {
    let now = Date.now();
    const r = await start({ authFailuresPerMinute: 3, signatureMaxSkewSec: 0 }, { nowMs: () => now });
    for (let i = 0; i < 3; i++) {
      const res = await r.sender().dispatch(groupAtMessage(), { signature: 'f'.repeat(128) });
      expect(res.status).toBe(401);
    }
    const refused = await headersOnly(r, '127.0.0.1');
    expect(refused.answer()).toEqual({
      status: 429,
      body: { error: 'too_many_auth_failures', message: expect.stringMatching(/AUTH_FAILURES_PER_MINUTE/) as unknown },
    });
    const retryAfter = Number(/retry-after: (\d+)/i.exec(refused.received)?.[1]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Even a good signature from that address waits; another address is not affected.
    expect((await r.sender().dispatch(groupAtMessage())).status).toBe(429);
    const other = groupAtMessage();
    expect((await r.sender().from('127.0.0.2').dispatch(other)).status).toBe(200);
    now += 60_000;
    const later = groupAtMessage();
    expect((await r.sender().dispatch(later)).status).toBe(200);
    expect(await r.accepted()).toEqual([other, later]);
    expect(r.ingress.stats()).toMatchObject({ webhooksThrottled: 2, webhooksRejected: 3 });
    expect(r.logs.join('')).toMatch(/"client":"127\.0\.0\.1".*webhook refused before its body was read/);
  });

  it('counts failed signatures only: bad JSON, op 13 and unknown bots are not authentication failures', async () => {
    const r = await start({ authFailuresPerMinute: 2 });
    for (let i = 0; i < 4; i++) {
      expect((await r.sender().post('{"op":0,')).status).toBe(400);
      expect((await r.sender().validate('t', '1')).status).toBe(200);
      expect((await r.sender().post('{}', {}, '/webhook')).status).toBe(404);
    }
    expect((await r.sender().dispatch(groupAtMessage())).status).toBe(200);
    expect(r.ingress.stats()).toMatchObject({ webhooksThrottled: 0 });
  });
});

describe('the webhook body budget (WEBHOOK_BODY_BUDGET_BYTES)', () => {
  it('lets one address hold only its share, keeps room for the others, and refuses past the total with 503', async () => {
    // 64 KiB in all, 8 KiB per client (an eighth; also MAX_BODY_BYTES).
    const r = await start({ maxBodyBytes: 8 * KiB, webhookBodyBudgetBytes: 64 * KiB });
    const attacker = await stall(r, '127.0.0.1', 8 * KiB);
    await eventually('the stalled body to be held', () => r.ingress.stats().webhookBodyBytesHeld === 8 * KiB);
    const more = await headersOnly(r, '127.0.0.1');
    expect(more.answer()).toEqual({
      status: 503,
      body: { error: 'over_budget', message: expect.stringMatching(/WEBHOOK_BODY_BUDGET_BYTES/) as unknown },
    });
    expect(more.received).toMatch(/retry-after: 1/i);
    // The platform, from another address, is not starved.
    const legit = groupAtMessage();
    expect((await r.sender().from('127.0.0.2').dispatch(legit)).status).toBe(200);
    // Seven more addresses fill the total; an eighth finds nothing left.
    const others = await Promise.all([2, 3, 4, 5, 6, 7, 8].map((n) => stall(r, `127.0.0.${n}`, 8 * KiB)));
    await eventually('all stalled bodies to be held', () => r.ingress.stats().webhookBodyBytesHeld === 64 * KiB);
    expect((await r.sender().from('127.0.0.9').dispatch(groupAtMessage())).status).toBe(503);
    // A staller that goes away gives its share back (its body never arrived whole).
    attacker.destroy();
    await eventually('the share to be released', () => r.ingress.stats().webhookBodyBytesHeld === 56 * KiB);
    const after = groupAtMessage();
    expect((await r.sender().from('127.0.0.1').dispatch(after)).status).toBe(200);
    expect(await r.accepted()).toEqual([legit, after]);
    expect(r.ingress.stats()).toMatchObject({ webhooksOverBudget: 2, webhooksAborted: 1 });
    for (const c of others) c.destroy();
    await eventually('every share to be released', () => r.ingress.stats().webhookBodyBytesHeld === 0);
  });

  it('refuses a chunked body with 503 once it outgrows what its address may still hold', async () => {
    const r = await start({ maxBodyBytes: 8 * KiB, webhookBodyBudgetBytes: 64 * KiB });
    const holder = await stall(r, '127.0.0.1', 4 * KiB);
    await eventually('the first body to be held', () => r.ingress.stats().webhookBodyBytesHeld === 4 * KiB);
    const chunked = await RawHttpConnection.open(r.port);
    await chunked.write(`POST /webhook?secret=${SECRET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 6 && chunked.received === ''; i++) await chunked.write(`400\r\n${'x'.repeat(KiB)}\r\n`);
    await chunked.closed;
    expect(chunked.answer()).toMatchObject({ status: 503, body: { error: 'over_budget' } });
    holder.destroy();
    await eventually('every share to be released', () => r.ingress.stats().webhookBodyBytesHeld === 0);
  });
});
