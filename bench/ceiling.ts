/**
 * The bare ceiling for scenario S1: node:http + ws, verify the signature and push the bytes — nothing else
 * (no framework, no validation beyond the signature, no history, no dedup). Hookway is reported against it.
 */
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { verifyDispatch } from '@hookway/protocol';

const ACK = '{"op":12,"d":0}';
const clientsBySecret = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const secret = url.searchParams.get('secret') ?? '';
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
    for (const ws of clientsBySecret.get(secret) ?? []) ws.send(body, { binary: false });
    res.writeHead(200, { 'content-type': 'application/json' }).end(ACK);
  });
});

server.on('upgrade', (req, socket, head) => {
  const secret = new URL(req.url ?? '/', 'http://x').searchParams.get('secret') ?? '';
  wss.handleUpgrade(req, socket, head, (ws) => {
    let set = clientsBySecret.get(secret);
    if (!set) clientsBySecret.set(secret, (set = new Set()));
    set.add(ws);
    ws.on('close', () => set.delete(ws));
  });
});

server.listen(Number(process.env.PORT ?? 8100), '127.0.0.1', () => {
  process.stdout.write(`ceiling listening on ${String(process.env.PORT ?? 8100)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
