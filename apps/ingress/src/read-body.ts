import type { IncomingMessage } from 'node:http';
import type { BodyHold } from './body-budget.ts';

const ABORTED = { ok: false, status: 400, error: 'body_read_failed', message: 'the request body could not be read' } as const;

export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; status: 413 | 415 | 400 | 503; error: string; message: string; headers?: Record<string, string> };

/** The request's declared Content-Length, or undefined (chunked, or none). node's parser has already checked its shape. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

/**
 * Reads a request body up to `maxBytes`, refusing early on a declared Content-Length over the limit and on
 * compressed bodies (the platform signs the bytes it sends; we must verify exactly those). Every byte read is
 * covered by `hold` (the body budget): a chunked body that outgrows it is refused with 503. Resolves once, whatever
 * happens to the request — including a peer that goes away or is cut off by the body timeout mid-body.
 */
export function readBody(req: IncomingMessage, maxBytes: number, hold: BodyHold): Promise<BodyResult> {
  // Made when needed: a webhook that fits never builds its refusal.
  const tooLarge = (): BodyResult => ({
    ok: false,
    status: 413,
    error: 'body_too_large',
    message: `body exceeds MAX_BODY_BYTES (${maxBytes} bytes)`,
  });
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    req.resume();
    return Promise.resolve({
      ok: false,
      status: 415,
      error: 'unsupported_content_encoding',
      message: `content-encoding "${encoding}" is not accepted; send the body as the platform signed it`,
    });
  }
  if ((declaredLength(req) ?? 0) > maxBytes) {
    req.resume();
    return Promise.resolve(tooLarge());
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      chunks.length = 0;
      if (!result.ok) req.resume();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) return finish(tooLarge());
      if (!hold.cover(received)) {
        return finish({
          ok: false,
          status: 503,
          error: 'over_budget',
          message: 'too many webhook bodies are being read at once (WEBHOOK_BODY_BUDGET_BYTES); the platform will retry',
          headers: { 'retry-after': '1' },
        });
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    // `on`, not `once`: `done` already makes each of these count once, and `once` would wrap every listener of every
    // webhook in a closure of its own.
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve({ ok: true, body: ownedBody(chunks, received) });
      }
    });
    req.on('error', () => finish(ABORTED));
    // A peer that vanishes (or is cut off by HTTP_BODY_TIMEOUT_MS) mid-body: 'close' without 'end'.
    req.on('close', () => finish(ABORTED));
  });
}

/**
 * The body in a buffer of its own, exactly its size: it is kept in the event history, and a slice would keep alive
 * whatever it was cut from — a whole socket read, or (Buffer.concat of a small body) a shared 8 KiB pool slab.
 */
export function ownedBody(chunks: readonly Buffer[], bytes: number): Buffer {
  const only = chunks.length === 1 ? chunks[0]! : undefined;
  if (only && only.byteOffset === 0 && only.buffer.byteLength === only.length) return only;
  const body = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(body, at);
  return body;
}
