/**
 * Self-check of bench/lean-ws-client.ts against a real `ws` server (the bench directory has no test suite):
 * `node --import tsx bench/lean-ws-check.ts` prints `lean-ws-check: ok …` and exits 0, or names what failed and
 * exits 1. It checks
 *   - the upgrade: a real server's 101 is accepted; a wrong Sec-WebSocket-Accept and a 403 are refused;
 *   - messages of every length form (7-bit, 16-bit, 64-bit; 0 to 300 000 bytes), text and binary, and one sent in
 *     fragments, arrive whole and in order over a live connection (the 300 000-byte one spans several reads);
 *   - the byte stream recorded on that connection, fed again to a fresh parser all at once (every frame coalesced in
 *     one read), split at every position of its frames up to 1 000 bytes and at every position within 12 bytes of
 *     each frame boundary, one byte at a time, and in 40 random chunkings, gives the same messages;
 *   - a ping is answered with a masked pong the server accepts; a text frame from the client reaches the server;
 *   - the close handshake both ways (our 1000 reaches the server; the server's 4001 is echoed back);
 *   - a masked server frame is a protocol error; the event-number byte scan (proc-stats.ts) on a table of frames.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { seededRandom } from '@hookway/testkit';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectLean, FrameParser } from './lean-ws-client.ts';
import { eventNumberIn, idNeedle } from './proc-stats.ts';
import { selfChecks } from './self-check.ts';

const { check, passed } = selfChecks('lean-ws-check');

const listen = (server: Server | ReturnType<typeof createNetServer>) =>
  new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));

/** Deterministic payloads of the given sizes: text that starts like an event when there is room. */
function payload(size: number, k: number): Buffer {
  const b = Buffer.alloc(size, 0x61 + (k % 26));
  const head = Buffer.from(`{"id":"check:n${k}"`);
  if (size >= head.length + 1) {
    head.copy(b);
    b[size - 1] = 0x7d;
  }
  return b;
}
const SIZES = [0, 1, 2, 125, 126, 127, 600, 1000, 65_535, 65_536, 70_000, 300_000];
/** What the server sends, in order: [bytes, binary?]. The fragmented one is sent as three frames. */
const expected: Buffer[] = SIZES.map((size, k) => payload(size, k));
const binaryMessage = Buffer.from([0, 1, 2, 255, 254]);
const fragmented = [Buffer.from('{"id":"check:'), Buffer.from('frag'), Buffer.from('mented"}')];
const allExpected = [...expected, binaryMessage, Buffer.concat(fragmented), payload(600, 99)];

const http = createHttpServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
const port = await listen(http);
const serverSide = new Promise<{ pong: Buffer; text: string; closeCode: number }>((resolve) => {
  wss.once('connection', (ws: WebSocket) => {
    let pong: Buffer = Buffer.alloc(0);
    let text = '';
    ws.on('pong', (data: Buffer) => (pong = data));
    // A bad frame from the client: ws closes with 1002, and the checks below name what is missing.
    ws.on('error', (err) => process.stderr.write(`lean-ws-check: the ws server refused a frame: ${err.message}\n`));
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) text = data.toString();
    });
    ws.on('close', (code) => resolve({ pong, text, closeCode: code }));
    // All in one tick: most of it reaches the client coalesced in few reads.
    for (const m of expected) ws.send(m, { binary: false });
    ws.ping(Buffer.from('ping-payload'));
    ws.send(binaryMessage, { binary: true });
    ws.send(fragmented[0]!, { fin: false, binary: false });
    ws.send(fragmented[1]!, { fin: false, binary: false });
    ws.send(fragmented[2]!, { fin: true, binary: false });
    ws.send(payload(600, 99));
  });
});

const received: Buffer[] = [];
const rawChunks: Buffer[] = [];
let pinged = false;
let gotAll: () => void = () => undefined;
const allArrived = new Promise<void>((r) => (gotAll = r));
const client = await connectLean(
  new URL(`ws://127.0.0.1:${port}/ws?secret=x`),
  (buf, start, end) => {
    received.push(Buffer.from(buf.subarray(start, end)));
    if (received.length === allExpected.length) gotAll();
  },
  {
    onRaw: (buf, start, end) => rawChunks.push(Buffer.from(buf.subarray(start, end))),
    onControl: (opcode) => (pinged ||= opcode === 0x9),
    onError: (reason) => {
      process.stderr.write(`lean-ws-check: FAILED: protocol error on a live connection: ${reason}\n`);
      process.exit(1);
    },
  },
);
await allArrived;
check('every message of every length form arrives whole and in order', () => {
  assert.equal(received.length, allExpected.length);
  received.forEach((m, i) => assert.ok(m.equals(allExpected[i]!), `message ${i} (${allExpected[i]!.length} bytes)`));
});
check('the 300 000-byte message spanned several reads', () => assert.ok(rawChunks.length > 1));
check('the ping was seen', () => assert.ok(pinged));
client.send('hello from lean');
await client.close();
const seen = await serverSide;
check('the ping was answered with a masked pong carrying its payload', () => assert.equal(seen.pong.toString(), 'ping-payload'));
check('a masked text frame reached the server', () => assert.equal(seen.text, 'hello from lean'));
check('our close (1000) reached the server', () => assert.equal(seen.closeCode, 1000));

// The recorded stream, fed again in other chunkings.
const stream = Buffer.concat(rawChunks);
/** Frame boundaries of `stream` (offsets where a frame starts), from the lengths in its headers. */
const boundaries: number[] = [];
for (let at = 0; at < stream.length;) {
  boundaries.push(at);
  const l = stream[at + 1]! & 0x7f;
  const header = l === 126 ? 4 : l === 127 ? 10 : 2;
  at += header + (l === 126 ? stream.readUInt16BE(at + 2) : l === 127 ? stream.readUInt32BE(at + 6) : l);
}
boundaries.push(stream.length);
check('the stream has a frame of each length form', () => {
  const form = (at: number) => {
    const l = stream[at + 1]! & 0x7f;
    return l < 126 ? '7-bit' : l === 126 ? '16-bit' : '64-bit';
  };
  assert.deepEqual(new Set(boundaries.slice(0, -1).map(form)), new Set(['7-bit', '16-bit', '64-bit']));
});

/** Reads land here and are overwritten once fed, as in the shared read buffer. */
const scratch = Buffer.alloc(stream.length + 64);
function replay(chunks: (bytes: Buffer) => Iterable<[number, number]>, bytes: Buffer = stream): Buffer[] {
  const out: Buffer[] = [];
  const parser = new FrameParser(
    (buf, start, end) => out.push(Buffer.from(buf.subarray(start, end))),
    () => undefined,
    (reason) => assert.fail(`protocol error: ${reason}`),
  );
  for (const [from, to] of chunks(bytes)) {
    const offset = from % 64;
    bytes.copy(scratch, offset, from, to);
    parser.feed(scratch, offset, offset + (to - from), 0);
    scratch.fill(0xee, offset, offset + (to - from));
  }
  assert.equal(parser.pendingBytes, 0, 'bytes left over');
  return out;
}
const same = (out: Buffer[], want: Buffer[] = allExpected) => {
  assert.equal(out.length, want.length);
  out.forEach((m, i) => assert.ok(m.equals(want[i]!), `message ${i}`));
};
const splitAt = (p: number) =>
  function* (b: Buffer): Iterable<[number, number]> {
    yield [0, p];
    yield [p, b.length];
  };

check('the whole stream in one read (every frame coalesced)', () => same(replay((b) => [[0, b.length]])));
check('split at every position of the frames up to 1 000 bytes', () => {
  const small = stream.subarray(0, boundaries[8]);
  for (let p = 0; p <= small.length; p++) same(replay(splitAt(p), small), allExpected.slice(0, 8));
});
check('split at every position within 12 bytes of each frame boundary', () => {
  for (const at of boundaries) {
    for (let p = Math.max(0, at - 12); p <= Math.min(stream.length, at + 12); p++) same(replay(splitAt(p)));
  }
});
check('one byte at a time', () =>
  same(
    replay(function* (b) {
      for (let i = 0; i < b.length; i++) yield [i, i + 1];
    }),
  ),
);
check('40 random chunkings', () => {
  const random = seededRandom(12345);
  for (let round = 0; round < 40; round++) {
    const maxChunk = [3, 17, 200, 4096, 70_000][round % 5]!;
    same(
      replay(function* (b) {
        for (let i = 0; i < b.length;) {
          const n = 1 + random(maxChunk);
          yield [i, Math.min(b.length, i + n)];
          i += n;
        }
      }),
    );
  }
});
check('a masked server frame is a protocol error', () => {
  let error = '';
  const parser = new FrameParser(
    () => assert.fail('delivered a masked frame'),
    () => undefined,
    (reason) => (error = reason),
  );
  const masked = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2]);
  parser.feed(masked, 0, masked.length, 0);
  assert.match(error, /masked/);
});
check('the event-number byte scan', () => {
  const needle = idNeedle('E:fanout7n');
  const cases: [string, number][] = [
    ['{"op":0,"id":"E:fanout7n42","d":{"id":"x"}}', 42],
    ['{"op":0,"id":"E:fanout7n0","d":{}}', 0],
    ['{"op":0,"id":"E:fanout7n12x","d":{}}', -1],
    ['{"op":0,"id":"E:fanout7n","d":{}}', -1],
    ['{"op":0,"id":"E:fanout8n42","d":{}}', -1],
    ['{"op":0,"d":{"id":"ROBOT_fanout7n4"}}', -1],
    ['{"op":11}', -1],
  ];
  for (const [frame, want] of cases) {
    // With other bytes around it, as in a read holding several frames.
    const buf = Buffer.from(`xx${frame}{"id":"E:fanout7n99"}`);
    assert.equal(eventNumberIn(buf, 2, 2 + Buffer.byteLength(frame), needle), want, frame);
  }
});

// The server closes: the client echoes the code and sees the socket close.
const closedByServer = new Promise<number>((resolve) =>
  wss.once('connection', (ws: WebSocket) => {
    ws.on('close', (code) => resolve(code));
    ws.close(4001, 'bye');
  }),
);
const second = await connectLean(new URL(`ws://127.0.0.1:${port}/ws`), () => undefined);
await second.closed;
const echoed = await closedByServer;
check("the server's close code is seen and echoed", () => {
  assert.equal(second.closeCode, 4001);
  assert.equal(echoed, 4001);
});
wss.close();
http.close();

// Upgrades that must be refused.
async function refused(response: string): Promise<string> {
  const server = createNetServer((socket) => {
    socket.once('data', () => socket.end(response));
  });
  const p = await listen(server);
  try {
    await connectLean(new URL(`ws://127.0.0.1:${p}/ws`), () => undefined, { timeoutMs: 5000 });
    return 'accepted';
  } catch (err) {
    return (err as Error).message;
  } finally {
    server.close();
  }
}
const wrongAccept = await refused(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
);
check('a wrong Sec-WebSocket-Accept is refused', () => assert.match(wrongAccept, /Sec-WebSocket-Accept/));
const forbidden = await refused('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
check('a 403 is refused', () => assert.match(forbidden, /403/));

process.stdout.write(`lean-ws-check: ok (${passed()} checks; ${stream.length} bytes in ${rawChunks.length} reads)\n`);
