import type { IncomingMessage } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; status: 413 | 415 | 400; error: string; message: string };

/**
 * Reads a request body up to `maxBytes`, refusing early on a declared Content-Length over the limit and
 * on compressed bodies (the platform signs the bytes it sends; we must verify exactly those).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, error: 'body_too_large', message: `body exceeds MAX_BODY_BYTES (${maxBytes} bytes)` } as const;
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
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        req.off('data', onData);
        req.resume();
        resolve(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (received <= maxBytes) resolve({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received) });
    });
    req.once('error', () => resolve({ ok: false, status: 400, error: 'body_read_failed', message: 'the request body could not be read' }));
  });
}
