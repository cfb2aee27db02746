import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import WebSocket, { WebSocketServer } from 'ws';
import { isPlainSocket, PreparedFrame, textFrameHeader, writeFrame } from '../src/shared/frames.ts';

/** A real ws server and client; `onServerSocket` gets the server's side of the connection. */
async function pair(perMessageDeflate: boolean) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: perMessageDeflate && { threshold: 0 } });
  await once(wss, 'listening');
  const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate });
  await once(client, 'open');
  const [server] = await serverSide;
  return {
    server,
    client,
    close: async () => {
      client.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

describe('prepared frames', () => {
  it.each([0, 1, 125, 126, 65535, 65536, 70000])('a %i-byte payload gets the header ws itself writes', (length) => {
    const payload = Buffer.alloc(length, 0x61);
    // What ws's own Sender frames for an unmasked text message (the bytes `ws.send` puts on the socket).
    const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: object): Buffer[] } };
    const [wsHeader] = Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
    expect(textFrameHeader(length)).toEqual(wsHeader);
    expect(new PreparedFrame(payload).wire).toEqual(Buffer.concat([wsHeader!, payload]));
  });

  it('goes straight to a plain socket, and arrives as the same message', async () => {
    const { server, client, close } = await pair(false);
    expect(isPlainSocket(server)).toBe(true);
    const text = '{"op":0,"d":{"content":"直写"}}';
    const received = once(client, 'message') as Promise<[Buffer, boolean]>;
    writeFrame(server, true, new PreparedFrame(Buffer.from(text)));
    const [data, isBinary] = await received;
    expect([data.toString(), isBinary]).toEqual([text, false]);
    await close();
  });

  it('never bypasses a socket that negotiated permessage-deflate: ws compresses it', async () => {
    const { server, client, close } = await pair(true);
    expect(server.extensions).toContain('permessage-deflate');
    expect(isPlainSocket(server)).toBe(false);
    const text = `{"op":0,"d":{"content":"${'压缩'.repeat(500)}"}}`;
    const received = once(client, 'message') as Promise<[Buffer, boolean]>;
    let wire = 0;
    const socket = (server as unknown as { _socket: { write: (chunk: Buffer, ...rest: unknown[]) => boolean } })._socket;
    const write = socket.write.bind(socket);
    socket.write = (chunk: Buffer, ...rest: unknown[]) => ((wire += chunk.length), write(chunk, ...rest));
    writeFrame(server, isPlainSocket(server), new PreparedFrame(Buffer.from(text)));
    const [data] = await received;
    expect(data.toString()).toBe(text);
    expect(wire).toBeLessThan(Buffer.byteLength(text) / 4);
    await close();
  });
});
