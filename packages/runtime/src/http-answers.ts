import { STATUS_CODES, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A JSON answer; every Hookway endpoint answers this way, errors as `{error, message}`. */
export function sendJson(res: ServerResponse, status: number, body: object, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A JSON error written straight onto a socket that has no ServerResponse (a refused upgrade, an HTTP request the
 * parser refused or that timed out), then the socket is destroyed once the answer is flushed.
 */
export function answerOnSocket(
  socket: Duplex,
  status: number,
  error: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify({ error, message });
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
  );
}

/**
 * Answers a WebSocket upgrade that will not be served (with any extra headers, such as Retry-After). Like ws's
 * abortHandshake, the socket is destroyed once the answer is flushed: it allows half-open, so a silent peer would
 * otherwise pin it.
 */
export const refuseUpgrade = answerOnSocket;
