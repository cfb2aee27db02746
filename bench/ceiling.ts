/**
 * The bare ceiling for scenario S1: node:http + ws, verify the signature and push the bytes — nothing else
 * (no framework, no validation beyond the signature, no history, no dedup). Hookway is reported against it.
 *
 * FANOUT_WRITE chooses how an event reaches its clients (the fan-out scenarios' references):
 *   send    `ws.send(body)` per client (default: the ceiling)
 *   socket  the floor: the frame's bytes (header + body) built once per event, then `socket.write(frame)` to each
 *           client's net.Socket — one write per frame, nothing of ws or of ours on the way
 *   fd      below the floor: the same bytes written with `fs.writeSync` straight to each socket's file descriptor,
 *           a bare write(2) per frame without node's stream machinery (falls back to `socket.write` for a socket
 *           whose kernel buffer is full, and for it from then on, so order is kept)
 */
import { writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ACK, secretOf, verifiedWebhooks } from './reference-webhook.ts';

const FANOUT_WRITE = process.env.FANOUT_WRITE ?? 'send';
if (!['send', 'socket', 'fd'].includes(FANOUT_WRITE)) throw new Error(`FANOUT_WRITE=${FANOUT_WRITE}: use send, socket or fd`);
const clientsBySecret = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

const server = createServer(
  verifiedWebhooks((secret, body, res) => {
    const clients = clientsBySecret.get(secret);
    if (clients && clients.size > 0) {
      if (FANOUT_WRITE === 'send') for (const ws of clients) ws.send(body, { binary: false });
      else {
        const frame = Buffer.concat([textFrameHeader(body.length), body]);
        if (FANOUT_WRITE === 'socket') for (const ws of clients) socketOf(ws).write(frame);
        else for (const ws of clients) writeToFd(socketOf(ws), frame);
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(ACK);
  }),
);

server.on('upgrade', (req, socket, head) => {
  const secret = secretOf(req.url);
  wss.handleUpgrade(req, socket, head, (ws) => {
    let set = clientsBySecret.get(secret);
    if (!set) clientsBySecret.set(secret, (set = new Set()));
    set.add(ws);
    ws.on('close', () => set.delete(ws));
  });
});

/** RFC 6455 §5.2: FIN + text, no mask, 7/16/64-bit length (as apps/gateway/src/shared/frames.ts). */
function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeUIntBE(length, 4, 6);
  return header;
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

/** Sockets that once found the kernel buffer full: written through node from then on (order kept). */
const viaNode = new WeakSet<Socket>();

function writeToFd(socket: Socket, frame: Buffer): void {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0 || viaNode.has(socket) || socket.writableLength > 0) {
    socket.write(frame);
    return;
  }
  let written = 0;
  try {
    written = writeSync(fd, frame);
  } catch {
    // EAGAIN: nothing written.
  }
  if (written < frame.length) {
    viaNode.add(socket);
    socket.write(frame.subarray(written));
  }
}

server.listen(Number(process.env.PORT ?? 8100), '127.0.0.1', () => {
  process.stdout.write(`ceiling listening on ${String(process.env.PORT ?? 8100)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
