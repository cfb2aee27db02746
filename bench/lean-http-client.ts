/**
 * A minimal HTTP/1.1 keep-alive client for the closed-loop S1 generator (bench/load.ts), cheap enough that the
 * generator's core measures the server and not the client: a `net` socket per connection, requests written as
 * ready-made bytes (bench/post.ts `presignEvents`), one request in flight per connection, and of each response only
 * what the closed loop needs — the status code, the end of the body (Content-Length, or chunked transfer coding, which
 * is what node:http sends for `writeHead(…).end(body)`: both the ceiling and Hookway answer so) and `Connection:
 * close`. Reads land in one buffer shared by every connection (`onread`); only an unfinished response is copied.
 * No pipelining, no redirects, no 1xx, no response to HEAD: a bench instrument for our own servers.
 *
 * `node --import tsx bench/lean-http-check.ts` checks it against a real node:http server.
 */
import { connect, type Socket } from 'node:net';

/** The largest response head accepted (ours are ~170 bytes). */
const MAX_HEAD_BYTES = 16 * 1024;

export interface ParsedResponse {
  /** The status code, e.g. 200. */
  readonly status: number;
  /** The server asked to close the connection after this response. */
  readonly close: boolean;
}

/**
 * The response parser, separate from the socket so that any chunking of a byte stream can be fed to it. A malformed
 * response (no `HTTP/1.x nnn` status line, a head over 16 KiB, a bad chunk size) is a protocol error (`onError`).
 */
export class ResponseParser {
  /** The unfinished response at the end of earlier reads (a copy: reads arrive in a shared buffer). */
  private pending: Buffer | null = null;
  private failed = false;

  constructor(
    private readonly onResponse: (response: ParsedResponse) => void,
    private readonly onError: (reason: string) => void,
  ) {}

  /** Feeds `chunk[start..end)`, which the caller may overwrite once this returns. */
  feed(chunk: Buffer, start: number, end: number): void {
    if (this.failed) return;
    let buf = chunk;
    let at = start;
    let stop = end;
    if (this.pending !== null) {
      // Rare (a response split across reads) and responses are small: join and parse it again from its start.
      buf = Buffer.concat([this.pending, chunk.subarray(start, end)]);
      at = 0;
      stop = buf.length;
      this.pending = null;
    }
    while (at < stop) {
      const next = this.parseOne(buf, at, stop);
      if (next < 0) return;
      if (next === at) {
        this.pending = Buffer.from(buf.subarray(at, stop));
        return;
      }
      at = next;
    }
  }

  /** Bytes held back waiting for the rest of a response (0 between responses). */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  /** Parses the response starting at `at`; returns where the next one starts, `at` when incomplete, -1 on error. */
  private parseOne(buf: Buffer, at: number, stop: number): number {
    const headEnd = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0 || headEnd >= stop) {
      if (stop - at > MAX_HEAD_BYTES) return this.fail('response head over 16 KiB');
      return at;
    }
    if (headEnd - at > MAX_HEAD_BYTES) return this.fail('response head over 16 KiB');
    // `HTTP/1.1 200 OK` (or `HTTP/1.1 200` with no reason phrase): the status code is at bytes 9–11.
    const afterCode = buf[at + 12];
    if (headEnd - at < 12 || buf.toString('latin1', at, at + 7) !== 'HTTP/1.' || (afterCode !== 0x20 && afterCode !== 0x0d)) {
      return this.fail(`not a status line: ${JSON.stringify(buf.toString('latin1', at, Math.min(headEnd, at + 40)))}`);
    }
    const status = (buf[at + 9]! - 48) * 100 + (buf[at + 10]! - 48) * 10 + (buf[at + 11]! - 48);
    if (!(status >= 100 && status <= 599)) return this.fail('bad status code');
    // Header names are case-insensitive: search a lower-cased copy of the head (one short string per response).
    const head = buf.toString('latin1', at, headEnd + 2).toLowerCase();
    const close = /\r\nconnection:[ \t]*close\r\n/.test(head);
    let bodyEnd: number;
    const te = head.indexOf('\r\ntransfer-encoding:');
    if (te >= 0 && head.slice(te, head.indexOf('\r\n', te + 2)).includes('chunked')) {
      bodyEnd = this.chunkedEnd(buf, headEnd + 4, stop);
      if (bodyEnd === -2) return -1;
    } else {
      const cl = head.indexOf('\r\ncontent-length:');
      const length = cl < 0 ? 0 : Number(head.slice(cl + 17, head.indexOf('\r\n', cl + 2)).trim());
      if (!Number.isSafeInteger(length) || length < 0) return this.fail('bad Content-Length');
      // Without either header a response to a request has an empty body only if the server closes: ours never do.
      bodyEnd = headEnd + 4 + length <= stop ? headEnd + 4 + length : -1;
    }
    if (bodyEnd < 0) return at;
    this.onResponse({ status, close });
    return bodyEnd;
  }

  /** Where a chunked body starting at `at` ends (after the last chunk and trailers); -1 incomplete, -2 error. */
  private chunkedEnd(buf: Buffer, at: number, stop: number): number {
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0 || lineEnd >= stop) return -1;
      const sizeText = buf.toString('latin1', at, lineEnd).split(';', 1)[0]!.trim();
      const size = /^[0-9a-fA-F]{1,8}$/.test(sizeText) ? parseInt(sizeText, 16) : NaN;
      if (Number.isNaN(size)) return (this.fail(`bad chunk size ${JSON.stringify(sizeText)}`), -2);
      if (size === 0) {
        // The trailer section ends at the first empty line: right away when there are no trailers.
        if (lineEnd + 4 <= stop && buf[lineEnd + 2] === 0x0d && buf[lineEnd + 3] === 0x0a) return lineEnd + 4;
        const trailersEnd = buf.indexOf('\r\n\r\n', lineEnd, 'latin1');
        return trailersEnd < 0 || trailersEnd + 4 > stop ? -1 : trailersEnd + 4;
      }
      const next = lineEnd + 2 + size + 2;
      if (next > stop) return -1;
      if (buf[next - 2] !== 0x0d || buf[next - 1] !== 0x0a) return (this.fail('chunk not followed by CRLF'), -2);
      at = next;
    }
  }

  private fail(reason: string): number {
    this.failed = true;
    this.pending = null;
    this.onError(reason);
    return -1;
  }
}

export interface LeanHttpConnection {
  /** Writes one request (complete bytes); `onResponse` gets its status. One at a time. */
  send(request: Buffer): void;
  /** Ends the socket. */
  close(): void;
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;
}

/** Every connection's reads land here (`onread` is synchronous: each read is consumed before the next one). */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Opens a keep-alive connection to host:port; resolves once connected. `onResponse` runs for each response (status,
 * and whether the server will close); `onClosed` once the socket closes, with a reason when it was not `close()`d.
 */
export function connectHttp(
  host: string,
  port: number,
  onResponse: (response: ParsedResponse) => void,
  onClosed: (unexpected: string | undefined) => void,
): Promise<LeanHttpConnection> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let closing = false;
    let problem: string | undefined;
    let settleClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (settleClosed = r));
    const parser = new ResponseParser(onResponse, (reason) => {
      problem = `protocol error: ${reason}`;
      socket.destroy();
    });
    const socket: Socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: sharedReadBuffer,
        callback: (nread) => {
          parser.feed(sharedReadBuffer, 0, nread);
          return true;
        },
      },
    });
    socket.once('connect', () => {
      connected = true;
      resolve({
        send: (request) => {
          socket.write(request);
        },
        close: () => {
          closing = true;
          socket.end();
        },
        closed,
      });
    });
    socket.on('error', (err) => {
      problem ??= err.message;
      if (!connected) reject(new Error(`connect to ${host}:${port}: ${err.message}`));
    });
    socket.once('close', () => {
      settleClosed();
      if (connected) onClosed(closing && problem === undefined ? undefined : (problem ?? 'closed by the server'));
    });
  });
}

/**
 * An idle connection is not reused after this long (closed instead; the request takes another or a new one). node's
 * server closes a keep-alive connection after 5 s without a request (`keepAliveTimeout`, announced as `Keep-Alive:
 * timeout=5`); a request written just as that close is on its way is lost with it (answered 0 here). Clients keep
 * below the server's timeout for that reason (undici: 4 s); a full `pnpm bench` failed one fan-out POST this way.
 */
const REUSE_IDLE_LIMIT_MS = 4_000;

/**
 * Open-loop sending over lean keep-alive connections (bench/fanout.ts): requests go out when the caller says, whatever
 * is still unanswered, each on an idle connection (one request in flight per connection, no pipelining), a new
 * connection opened when none is idle, up to `maxConnections`; beyond that they wait in order (that wait is the
 * caller's latency too, as in node's http Agent). Every request is answered once through `onAnswer(tag, status)`:
 * its HTTP status, or 0 when its connection closed (or could not be opened) before the answer. Connections are opened
 * only for a request that is waiting, never ahead: node's server treats a connection that has sent nothing for its
 * headers timeout as a slow request and answers it 408 unasked (Hookway's HTTP_HEADERS_TIMEOUT_MS: 5 s), which a
 * request written at that moment would take for its own answer.
 */
export class LeanHttpPool {
  private readonly idle: PooledConnection[] = [];
  private readonly open = new Set<PooledConnection>();
  private opening = 0;
  /** The connects under way (close() waits for them). */
  private readonly connecting = new Set<Promise<void>>();
  /** Requests waiting for a connection, oldest first (`waitingHead`: the next one; the arrays are cut when empty). */
  private waitingRequests: Buffer[] = [];
  private waitingTags: number[] = [];
  private waitingHead = 0;
  private closing = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly maxConnections: number,
    private readonly onAnswer: (tag: number, status: number) => void,
  ) {}

  /** Sends `request` now on an idle connection, or as soon as one is free; `tag` comes back with its answer. */
  send(request: Buffer, tag: number): void {
    for (let connection = this.idle.pop(); connection !== undefined; connection = this.idle.pop()) {
      if (performance.now() - connection.idleSinceMs < REUSE_IDLE_LIMIT_MS) return connection.send(request, tag);
      connection.close().catch(() => undefined); // resolves once closed; nothing is in flight on it
    }
    this.waitingRequests.push(request);
    this.waitingTags.push(tag);
    if (this.open.size + this.opening < this.maxConnections) this.openOne().catch((err: unknown) => this.notOpened(err));
  }

  /** Connections opened and still open. */
  get connectionCount(): number {
    return this.open.size;
  }

  /** Ends every connection (requests still waiting or in flight are answered 0); resolves once all have closed. */
  async close(): Promise<void> {
    this.closing = true;
    this.failWaiting();
    // A connection still being opened is closed as soon as it is open (openOne): wait for that too.
    await Promise.allSettled([...this.connecting]);
    await Promise.all([...this.open].map((c) => c.close()));
  }

  /** Opens one connection and gives it the oldest waiting request, if any. */
  private async openOne(): Promise<void> {
    this.opening++;
    const pooled = new PooledConnection(
      (tag, status, reusable) => {
        this.onAnswer(tag, status);
        if (reusable) this.release(pooled);
      },
      () => {
        this.open.delete(pooled);
        const at = this.idle.indexOf(pooled);
        if (at >= 0) this.idle.splice(at, 1);
        // Requests still waiting: a connection in its place.
        if (!this.closing && this.waitingHead < this.waitingRequests.length && this.open.size + this.opening < this.maxConnections) {
          this.openOne().catch((err: unknown) => this.notOpened(err));
        }
      },
    );
    const connected = pooled.connect(this.host, this.port);
    this.connecting.add(connected);
    try {
      await connected;
    } finally {
      this.connecting.delete(connected);
      this.opening--;
    }
    this.open.add(pooled);
    if (this.closing) return pooled.close();
    this.release(pooled);
  }

  /** A connection could not be opened: with none left to take them, the waiting requests are answered 0. */
  private notOpened(err: unknown): void {
    process.stderr.write(`LeanHttpPool: ${String(err)}\n`);
    if (this.open.size + this.opening === 0) this.failWaiting();
  }

  /** A connection with nothing in flight: the oldest waiting request, or the idle list. */
  private release(connection: PooledConnection): void {
    if (this.waitingHead < this.waitingRequests.length) {
      const request = this.waitingRequests[this.waitingHead]!;
      const tag = this.waitingTags[this.waitingHead++]!;
      if (this.waitingHead === this.waitingRequests.length) this.clearWaiting();
      return connection.send(request, tag);
    }
    connection.idleSinceMs = performance.now();
    this.idle.push(connection);
  }

  private failWaiting(): void {
    for (let i = this.waitingHead; i < this.waitingTags.length; i++) this.onAnswer(this.waitingTags[i]!, 0);
    this.clearWaiting();
  }

  private clearWaiting(): void {
    this.waitingRequests = [];
    this.waitingTags = [];
    this.waitingHead = 0;
  }
}

/** One pool connection: its request in flight (a tag), answered by the response or, failing that, by the close. */
class PooledConnection {
  private connection: LeanHttpConnection | undefined;
  /** The tag of the request in flight; NaN when none. */
  private inFlightTag = NaN;
  /** Whether a request was ever written on it (see the unasked 408 in connect). */
  private everSent = false;
  /** performance.now() when it last joined the pool's idle list. */
  idleSinceMs = 0;

  constructor(
    private readonly onAnswer: (tag: number, status: number, reusable: boolean) => void,
    private readonly onGone: () => void,
  ) {}

  async connect(host: string, port: number): Promise<void> {
    this.connection = await connectHttp(
      host,
      port,
      (response) => {
        const tag = this.inFlightTag;
        if (Number.isNaN(tag)) {
          // A connection opened for a request that an idle one took meanwhile never sends anything: node answers it
          // 408 unasked after its headers timeout and closes it. No request was on it; anything else is a real fault.
          if (response.status === 408 && !this.everSent) return;
          return void process.stderr.write(`LeanHttpPool: a response (${response.status}) to no request\n`);
        }
        this.inFlightTag = NaN;
        // After `Connection: close` the socket ends: the answer stands, the connection is not reused.
        this.onAnswer(tag, response.status, !response.close);
      },
      () => {
        const tag = this.inFlightTag;
        this.inFlightTag = NaN;
        this.onGone();
        if (!Number.isNaN(tag)) this.onAnswer(tag, 0, false);
      },
    );
  }

  send(request: Buffer, tag: number): void {
    this.inFlightTag = tag;
    this.everSent = true;
    this.connection!.send(request);
  }

  close(): Promise<void> {
    this.connection!.close();
    return this.connection!.closed;
  }
}
