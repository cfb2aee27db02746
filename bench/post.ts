import { request, type Agent } from 'node:http';
import { signDispatch } from '@hookway/protocol';
import { groupAtMessage } from '@hookway/testkit';

/**
 * Posts one ~600-byte GROUP_AT_MESSAGE_CREATE with the given id, signed as the platform signs it.
 * `onSent` runs just before the bytes go out (for latency timing); resolves with the HTTP status (0 on error).
 */
export function postSignedEvent(target: URL, agent: Agent, secret: string, id: string, onSent: () => void): Promise<number> {
  const body = Buffer.from(groupAtMessage({ id }));
  const timestamp = String(Math.floor(Date.now() / 1000));
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: `/webhook?secret=${secret}`,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-signature-timestamp': timestamp,
          'x-signature-ed25519': signDispatch(secret, timestamp, body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    onSent();
    req.end(body);
  });
}

/** Digits of the event number in a pre-signed event's id (zero-padded, so every request has the same length). */
const PRESIGNED_ID_DIGITS = 9;

export interface PresignedEvents {
  /** How many events: numbered 1…count. */
  readonly count: number;
  /** The id of event n: `<idPrefix><n, zero-padded to 9 digits>` (proc-stats.ts `eventNumberIn` reads it back). */
  readonly idOf: (n: number) => string;
  /** The complete HTTP request of event n (a view into one buffer holding them all). */
  readonly request: (n: number) => Buffer;
  /** The Unix second of the first and last signature: the server refuses them once SIGNATURE_MAX_SKEW_SEC (300) old. */
  readonly signedFromSec: number;
  readonly signedToSec: number;
}

/**
 * Signs `count` ~600-byte GROUP_AT_MESSAGE_CREATE webhooks ahead of time (each with the Unix second it was signed at,
 * as the platform does) and lays out their complete HTTP/1.1 requests (keep-alive, `POST /webhook?secret=…`) in one
 * buffer, so that sending one costs a socket write and no signature (ed25519 signing is ~55 µs of the generator's
 * CPU per event). ~0.9 KB per event.
 */
export function presignEvents(target: URL, secret: string, idPrefix: string, count: number): PresignedEvents {
  if (count >= 10 ** PRESIGNED_ID_DIGITS) throw new Error(`presignEvents: at most ${10 ** PRESIGNED_ID_DIGITS - 1} events`);
  const idOf = (n: number) => `${idPrefix}${String(n).padStart(PRESIGNED_ID_DIGITS, '0')}`;
  const requestOf = (n: number): Buffer => {
    const body = Buffer.from(groupAtMessage({ id: idOf(n) }));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const head =
      `POST /webhook?secret=${encodeURIComponent(secret)} HTTP/1.1\r\n` +
      `Host: ${target.host}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${body.length}\r\n` +
      `X-Signature-Timestamp: ${timestamp}\r\n` +
      `X-Signature-Ed25519: ${signDispatch(secret, timestamp, body)}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  };
  const signedFromSec = Math.floor(Date.now() / 1000);
  const first = requestOf(1);
  const requestBytes = first.length;
  const all = Buffer.allocUnsafe(requestBytes * count);
  first.copy(all, 0);
  for (let n = 2; n <= count; n++) {
    const r = requestOf(n);
    // Fixed-width ids and timestamps make every request the same length (checked: a view is found by arithmetic).
    if (r.length !== requestBytes) throw new Error(`presignEvents: request ${n} is ${r.length} bytes, the first ${requestBytes}`);
    r.copy(all, (n - 1) * requestBytes);
  }
  return {
    count,
    idOf,
    request: (n) => all.subarray((n - 1) * requestBytes, n * requestBytes),
    signedFromSec,
    signedToSec: Math.floor(Date.now() / 1000),
  };
}

/** The server refuses a signature older than SIGNATURE_MAX_SKEW_SEC (300 s by default): a run must end well before. */
const MAX_SIGNATURE_AGE_SEC = 280;

/** Throws when the first of `presigned` would be too old for the server `runMs` from now (the end of the run). */
export function assertSignaturesLast(presigned: PresignedEvents, runMs: number, settings: string): void {
  const oldestAtEndSec = Date.now() / 1000 - presigned.signedFromSec + runMs / 1000;
  if (oldestAtEndSec > MAX_SIGNATURE_AGE_SEC) {
    throw new Error(
      `the first pre-signed request would be ${Math.round(oldestAtEndSec)} s old at the end of the run (over ${MAX_SIGNATURE_AGE_SEC}: ` +
        `SIGNATURE_MAX_SKEW_SEC refuses it): ${settings}`,
    );
  }
}
