import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { LeanWebSocket } from '../src/shared/lean-websocket.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server whose sockets are LeanWebSockets, and one client connected to it: both ends. */
async function connectedPair(): Promise<{ server: WebSocket; client: WebSocket }> {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, WebSocket: LeanWebSocket });
  const http = createServer();
  servers.push(http);
  const accepted = new Promise<WebSocket>((resolve) =>
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, resolve)),
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
  const [server] = await Promise.all([accepted, once(client, 'open')]);
  return { server, client };
}

describe('LeanWebSocket', () => {
  it("is a ws WebSocket whose unheard 'error' throws and whose events reach their listeners (message, ping, pong, close)", async () => {
    const { server, client } = await connectedPair();
    expect(server).toBeInstanceOf(WebSocket);
    expect(server.listenerCount('message')).toBe(0);
    // Before anything listens for 'error' (events.once below does).
    expect(() => server.emit('error', new Error('nobody listens'))).toThrow('nobody listens');
    const heard: string[] = [];
    server.on('message', (data: Buffer) => heard.push(`message ${data.toString()}`));
    server.on('ping', (data: Buffer) => heard.push(`ping ${data.toString()}`));
    server.on('pong', (data: Buffer) => heard.push(`pong ${data.toString()}`));
    const closed = once(server, 'close');
    const clientPonged = once(client, 'pong');
    client.send('hello');
    client.ping('p1');
    await clientPonged; // ws answered the ping itself (its auto-pong, whose callback this class makes on demand)
    const serverPonged = new Promise<void>((resolve) => server.once('pong', () => resolve()));
    server.ping('p2');
    await serverPonged; // the client's automatic answer
    client.close(4000, 'bye');
    const [code, reason] = (await closed) as [number, Buffer];
    expect(heard).toEqual(['message hello', 'ping p1', 'pong p2']);
    expect([code, reason.toString()]).toEqual([4000, 'bye']);
    expect(server.listenerCount('message')).toBe(1);
  });

  it('keeps its listener table a plain object once the gateway listens, where a ws WebSocket keeps a hash table', async () => {
    // V8's own answer, from a process started with --allow-natives-syntax: %HasFastProperties of each socket's
    // `_events` after the four listeners stream-client.ts adds.
    const script = `
      import { createServer } from 'node:http';
      import WebSocket, { WebSocketServer } from 'ws';
      import { LeanWebSocket } from ${JSON.stringify(fileURLToPath(new URL('../src/shared/lean-websocket.ts', import.meta.url)))};
      const hasFastProperties = new Function('o', 'return %HasFastProperties(o)');
      const http = createServer();
      await new Promise((r) => http.listen(0, '127.0.0.1', r));
      const answers = {};
      for (const [name, WebSocketClass] of [['lean', LeanWebSocket], ['ws', WebSocket]]) {
        const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, WebSocket: WebSocketClass });
        const accepted = new Promise((resolve) => http.once('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, resolve)));
        const client = new WebSocket('ws://127.0.0.1:' + http.address().port + '/');
        const [server] = await Promise.all([accepted, new Promise((r) => client.once('open', r))]);
        for (const event of ['pong', 'message', 'error', 'close']) server.on(event, () => {});
        answers[name] = hasFastProperties(server._events);
        client.terminate();
      }
      http.close();
      process.stdout.write(JSON.stringify(answers));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
    expect(JSON.parse(stdout)).toEqual({ lean: true, ws: false });
  });
});
