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
