/**
 * What the bench's reference servers (bench/ceiling.ts, bench/split-floor.ts) do with a webhook before their own part:
 * the bot's secret from `?secret=`, the whole body, the same `verifyDispatch` as Hookway. Nothing else — no
 * framework, no JSON, no limits — so that the references stay the least a relay can do.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyDispatch } from '@hookway/protocol';

/** The platform's acknowledgement of an op 0 dispatch. */
export const ACK = '{"op":12,"d":0}';

/** The `secret` query parameter of a request URL ('' when there is none). */
export const secretOf = (url: string | undefined) => new URL(url ?? '/', 'http://x').searchParams.get('secret') ?? '';

/** A request handler: answers 401 to a webhook whose signature does not verify, hands a verified one to `onVerified`. */
export function verifiedWebhooks(onVerified: (secret: string, body: Buffer, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const secret = secretOf(req.url);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const verdict = verifyDispatch(
        secret,
        req.headers['x-signature-timestamp'] as string | undefined,
        req.headers['x-signature-ed25519'] as string | undefined,
        body,
      );
      if (!verdict.ok) {
        res.writeHead(401).end();
        return;
      }
      onVerified(secret, body, res);
    });
  };
}
