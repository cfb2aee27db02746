/**
 * Idle connections: the server's RSS (SERVER_PIDS, /proc) before and after CLIENTS raw clients connect and sit idle
 * (SETTLE_MS after the last one opened), then one signed event that every client must receive (so every connection
 * counted was live). Prints one JSON line: KiB of server RSS per idle connection.
 */
import { Agent } from 'node:http';
import { openIdleRawClients } from './idle-clients.ts';
import { postSignedEvent } from './post.ts';
import { idOfFrame, pidsFromEnv, pollUntil, rssBytesOf } from './proc-stats.ts';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8000');
const wsTarget = new URL(process.env.WS_TARGET ?? target.href);
const secret = process.env.SECRET ?? 'BenchSecret0123456789';
const clientCount = Number(process.env.CLIENTS ?? 2000);
const settleMs = Number(process.env.SETTLE_MS ?? 2000);
const serverPids = pidsFromEnv('SERVER_PIDS');

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const eventId = `GROUP_AT_MESSAGE_CREATE:idle${process.pid}`;
let received = 0;

// One event first, so the bot, its feed and the code paths exist before the baseline is read.
await postSignedEvent(target, agent, secret, `${eventId}first`, () => undefined);
await new Promise((r) => setTimeout(r, settleMs));
const rssBefore = rssBytesOf(serverPids);

const clients = await openIdleRawClients(`ws://${wsTarget.host}`, secret, clientCount, (data) => {
  if (idOfFrame(data) === eventId) received++;
});
await new Promise((r) => setTimeout(r, settleMs));
const rssAfter = rssBytesOf(serverPids);

const status = await postSignedEvent(target, agent, secret, eventId, () => undefined);
if (status === 200) await pollUntil(() => received >= clientCount, 20_000);
for (const ws of clients) ws.close();
agent.destroy();

process.stdout.write(
  `${JSON.stringify({
    clients: clientCount,
    rssBeforeMiB: Number((rssBefore / 2 ** 20).toFixed(1)),
    rssAfterMiB: Number((rssAfter / 2 ** 20).toFixed(1)),
    kibPerConnection: Number(((rssAfter - rssBefore) / 1024 / clientCount).toFixed(2)),
    expectedDeliveries: clientCount,
    delivered: received,
    failed: status === 200 ? 0 : 1,
  })}\n`,
);
