/**
 * Self-check of bench/lean-http-client.ts against a real node:http server (the bench directory has no test suite):
 * `node --import tsx bench/lean-http-check.ts` prints `lean-http-check: ok …` and exits 0, or names what failed and
 * exits 1. It checks
 *   - over one live keep-alive connection: node:http's chunked answers (`writeHead(…).end(body)`, as the ceiling and
 *     Hookway send them), Content-Length answers, an empty body, a 401 and a 503, a large chunked body over several
 *     reads — each status in order, one response per request;
 *   - the byte stream recorded on that connection, fed again to a fresh parser all at once, one byte at a time, split
 *     at every position, and in 40 random chunkings, gives the same statuses;
 *   - trailers after the last chunk, a status line without a reason phrase, `Connection: close` (reported), and
 *     garbage instead of a status line (a protocol error);
 *   - the request bytes of bench/post.ts `presignEvents` are accepted by the real server, which verifies the
 *     signature and finds every id;
 *   - `LeanHttpPool` (the open loop's sender): more requests at once than connections, each answered once with its own
 *     status; a request whose connection the server drops answered 0, a `Connection: close` answer kept, and the
 *     requests after both still answered on new connections.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { verifyDispatch } from '@hookway/protocol';
import { seededRandom } from '@hookway/testkit';
import { connectHttp, LeanHttpPool, ResponseParser, type ParsedResponse } from './lean-http-client.ts';
import { presignEvents } from './post.ts';
import { selfChecks } from './self-check.ts';

const { check, passed } = selfChecks('lean-http-check');

// A response the parser lost would leave a request waiting forever: fail instead.
const watchdog = setTimeout(() => {
  process.stderr.write(`lean-http-check: FAILED: timed out after ${passed()} checks (a response was never reported)\n`);
  process.exit(1);
}, 20_000);

const SECRET = 'CheckSecret0123456789';
/** What the server answers to `GET /<kind>`; POST /webhook verifies a signature like the ceiling. */
const answers: Record<string, [status: number, body: string, contentLength: boolean]> = {
  chunked: [200, '{"op":12,"d":0}', false],
  length: [200, '{"op":12,"d":0}', true],
  empty: [204, '', false],
  refused: [401, '{"error":"bad_signature"}', false],
  busy: [503, '{"error":"verify_busy"}', true],
  large: [200, 'x'.repeat(200_000), false],
};
const webhookIds: string[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

const server = createServer((req, res) => {
  const answer = (body: Buffer) => {
    if (req.method === 'POST') {
      const ok = verifyDispatch(
        new URL(req.url ?? '/', 'http://x').searchParams.get('secret') ?? '',
        req.headers['x-signature-timestamp'] as string | undefined,
        req.headers['x-signature-ed25519'] as string | undefined,
        body,
      ).ok;
      if (ok) webhookIds.push((JSON.parse(body.toString()) as { id: string }).id);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end('{"op":12,"d":0}');
      return;
    }
    const kind = (req.url ?? '/').slice(1);
    // For the pool: a connection dropped with the request unanswered, and an answer that closes its connection.
    if (kind === 'drop') return void req.socket.destroy();
    if (kind === 'bye') return void res.writeHead(200, { connection: 'close', 'content-length': 0 }).end();
    const [status, text, withLength] = answers[kind] ?? [404, 'no', false];
    res.writeHead(status, { 'content-type': 'application/json', ...(withLength ? { 'content-length': Buffer.byteLength(text) } : {}) });
    res.end(text);
  };
  readBody(req).then(answer, (err: unknown) => res.destroy(err as Error));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as AddressInfo;

// One live connection: every kind, in order, one request at a time (the closed loop's use).
const kinds = [...Object.keys(answers), 'chunked', 'large', 'length'];
const statuses: number[] = [];
let answered: () => void = () => undefined;
const connection = await connectHttp(
  '127.0.0.1',
  port,
  (r) => {
    statuses.push(r.status);
    answered();
  },
  () => undefined,
);
for (const kind of kinds) {
  const done = new Promise<void>((r) => (answered = r));
  connection.send(Buffer.from(`GET /${kind} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1'));
  await done;
}
const expected = kinds.map((k) => answers[k]![0]);
check('live connection: each status in order', () => assert.deepEqual(statuses, expected));

// The same answers as raw bytes, to feed fresh parsers in every chunking.
// (Pipelined: node:http answers them in order; the last asks the server to close.)
const recorded = await new Promise<Buffer>((resolve, reject) => {
  const s = connect(port, '127.0.0.1');
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  s.on('error', reject);
  s.on('end', () => resolve(Buffer.concat(parts)));
  s.write(kinds.map((k, i) => `GET /${k} HTTP/1.1\r\nHost: x\r\n${i === kinds.length - 1 ? 'Connection: close\r\n' : ''}\r\n`).join(''));
});
const parseIn = (stream: Buffer, cuts: number[]): ParsedResponse[] => {
  const out: ParsedResponse[] = [];
  const parser = new ResponseParser(
    (r) => out.push(r),
    (reason) => assert.fail(reason),
  );
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    // A scratch copy that is overwritten after each feed, as the shared read buffer is.
    const scratch = Buffer.from(stream.subarray(from, cut));
    parser.feed(scratch, 0, scratch.length);
    scratch.fill(0);
    from = cut;
  }
  assert.equal(parser.pendingBytes, 0);
  return out;
};
const expectedAll = expected.map((status, i) => ({ status, close: i === expected.length - 1 }));
check('recorded stream in one read', () => assert.deepEqual(parseIn(recorded, []), expectedAll));
const small = recorded.subarray(0, recorded.indexOf('HTTP/1.1', recorded.indexOf('HTTP/1.1 503') + 1));
const smallExpected = expectedAll.slice(0, 5);
check('small answers one byte at a time', () =>
  assert.deepEqual(
    parseIn(
      small,
      Array.from({ length: small.length - 1 }, (_, i) => i + 1),
    ),
    smallExpected,
  ),
);
check('small answers split at every position', () => {
  for (let cut = 1; cut < small.length; cut++) assert.deepEqual(parseIn(small, [cut]), smallExpected, `cut at ${cut}`);
});
check('recorded stream in 40 random chunkings', () => {
  const random = seededRandom(7);
  for (let k = 0; k < 40; k++) {
    const cuts: number[] = [];
    for (let at = random(300) + 1; at < recorded.length; at += random(3000) + 1) cuts.push(at);
    assert.deepEqual(parseIn(recorded, cuts), expectedAll, `chunking ${k}`);
  }
});
check('trailers, no reason phrase, Connection: close', () => {
  const stream = Buffer.from(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n' +
      'HTTP/1.1 503\r\nContent-Length: 2\r\n\r\nno' +
      'HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n',
  );
  const want = [
    { status: 200, close: false },
    { status: 503, close: false },
    { status: 200, close: true },
  ];
  assert.deepEqual(parseIn(stream, []), want);
  for (let cut = 1; cut < stream.length; cut++) assert.deepEqual(parseIn(stream, [cut]), want, `cut at ${cut}`);
});
check('garbage instead of a status line is a protocol error', () => {
  const errors: string[] = [];
  new ResponseParser(
    () => assert.fail('no response expected'),
    (reason) => errors.push(reason),
  ).feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 0, 19);
  assert.equal(errors.length, 1);
});

// Pre-signed requests against the real server: each verifies and carries its id.
const presigned = presignEvents(new URL(`http://127.0.0.1:${port}`), SECRET, 'CHECK:n', 20);
const webhookStatuses: number[] = [];
const posting = await connectHttp(
  '127.0.0.1',
  port,
  (r) => {
    webhookStatuses.push(r.status);
    answered();
  },
  () => undefined,
);
for (let n = 1; n <= presigned.count; n++) {
  const done = new Promise<void>((r) => (answered = r));
  posting.send(presigned.request(n));
  await done;
}
check('pre-signed requests verify and carry their ids', () => {
  assert.deepEqual(
    webhookStatuses,
    Array.from({ length: 20 }, () => 200),
  );
  assert.deepEqual(
    webhookIds,
    Array.from({ length: 20 }, (_, i) => presigned.idOf(i + 1)),
  );
  assert.equal(presigned.idOf(7), 'CHECK:n000000007');
});

// The pool: 3 connections at most, 30 requests handed over at once (27 wait), then a dropped and a closing one.
const poolAnswers = new Map<number, number[]>();
let poolAnswered: () => void = () => undefined;
const pool = new LeanHttpPool('127.0.0.1', port, 3, (tag, status) => {
  poolAnswers.set(tag, [...(poolAnswers.get(tag) ?? []), status]);
  if (poolAnswers.size === poolKinds.length) poolAnswered();
});
const poolKinds = [...Array.from({ length: 30 }, (_, i) => ['chunked', 'refused', 'busy'][i % 3]!), 'drop', 'bye', 'length', 'empty'];
const allPoolAnswers = new Promise<void>((r) => (poolAnswered = r));
poolKinds.forEach((kind, tag) => pool.send(Buffer.from(`GET /${kind} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1'), tag));
check('pool: at most its connections while requests wait', () => assert.ok(pool.connectionCount <= 3, `${pool.connectionCount} open`));
await allPoolAnswers;
check('pool: every request answered once with its own status; a dropped one 0', () =>
  assert.deepEqual(
    poolKinds.map((_, tag) => poolAnswers.get(tag)),
    poolKinds.map((kind) => [kind === 'drop' ? 0 : kind === 'bye' ? 200 : answers[kind]![0]]),
  ),
);

connection.close();
posting.close();
await Promise.all([connection.closed, posting.closed, pool.close()]);
server.close();
clearTimeout(watchdog);
process.stdout.write(`lean-http-check: ok (${passed()} checks)\n`);
