/**
 * The bare split, a reference for S1's split mode: the least any relay split into an ingress and a gateway over Redis
 * can do, as two processes of a few lines each. `SPLIT_ROLE=ingress`: node:http, read the body, verify the signature
 * with the same `verifyDispatch` as the ceiling (bench/reference-webhook.ts), one `PUBLISH qq:<secret> <body>` (ioredis, auto-pipelined as
 * Hookway's client is) and answer `{"op":12,"d":0}` once Redis has taken it. `SPLIT_ROLE=gateway`: ws; one ioredis
 * subscriber, subscribed to a bot's channel when its first client connects; each message is `ws.send` to that bot's
 * clients. `REDIS_URL` names the Redis both use.
 *
 * Nothing is stored, numbered or de-duplicated, so there is no resume and a gateway that reconnects loses what was
 * published meanwhile: this is not a relay one could run, it is the cost of the three hops themselves (an HTTP
 * request in, a Redis publish, a pub/sub message out to a WebSocket) with the three processes on one core. Hookway's
 * split mode is reported against it as well as against the ceiling (docs/benchmarks.md).
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import WebSocket, { WebSocketServer } from 'ws';
import { ACK, secretOf, verifiedWebhooks } from './reference-webhook.ts';

const role = process.env.SPLIT_ROLE;
const redisUrl = process.env.REDIS_URL;
if ((role !== 'ingress' && role !== 'gateway') || !redisUrl) throw new Error('split-floor: set SPLIT_ROLE=ingress|gateway and REDIS_URL');
const channelOf = (secret: string) => `qq:${secret}`;

// ioredis's defaults otherwise (an offline queue, retries): Hookway's client refuses at once while Redis is away, which
// matters only when it is, and the bench's Redis never is.
const server = role === 'ingress' ? ingress(new Redis(redisUrl, { enableAutoPipelining: true })) : gateway(new Redis(redisUrl));

function ingress(redis: Redis) {
  return createServer(
    verifiedWebhooks((secret, body, res) => {
      redis.publish(channelOf(secret), body).then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end(ACK),
        () => res.writeHead(503).end(),
      );
    }),
  );
}

function gateway(subscriber: Redis) {
  const clientsByChannel = new Map<string, Set<WebSocket>>();
  subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    const clients = clientsByChannel.get(channel.toString());
    if (clients) for (const ws of clients) ws.send(message, { binary: false });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http = createServer((_req, res) => res.writeHead(404).end());
  /** Per channel: settles once subscribed; the upgrade completes after it, so a connected client misses nothing. */
  const subscribed = new Map<string, Promise<unknown>>();
  http.on('upgrade', (req, socket, head) => {
    // Until ws takes the socket nothing listens for its errors: a client that resets meanwhile must not end the process.
    socket.on('error', () => socket.destroy());
    const channel = channelOf(secretOf(req.url));
    let ready = subscribed.get(channel);
    if (!ready) {
      ready = subscriber.subscribe(channel);
      subscribed.set(channel, ready);
      // A refused subscription is tried again by the bot's next client.
      ready.catch(() => subscribed.delete(channel));
    }
    ready.then(
      () =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          let set = clientsByChannel.get(channel);
          if (!set) clientsByChannel.set(channel, (set = new Set()));
          set.add(ws);
          ws.on('close', () => set.delete(ws));
        }),
      () => socket.destroy(),
    );
  });
  return http;
}

server.listen(Number(process.env.PORT ?? 8100), '127.0.0.1', () => {
  process.stdout.write(`split-floor ${role} listening on ${String(process.env.PORT ?? 8100)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
