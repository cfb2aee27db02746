/**
 * A minimal WebSocket client for the load generators, cheap enough that 2 000 of them on one core measure the server
 * and not themselves: a `net` socket, one upgrade request (Sec-WebSocket-Key sent, the 101 and Sec-WebSocket-Accept
 * checked), then a frame parser over every read (several frames per read and frames split across reads; 7-, 16- and
 * 64-bit lengths). Reads land in one buffer shared by every client (`onread`), so a read allocates nothing; only the
 * unfinished tail of a read is copied. Text and binary messages reach `onMessage` as (bytes, start, end) of a buffer
 * that is only valid during the call — no string, no JSON, no per-frame object. Pings are answered with masked pongs;
 * a close frame is answered and the socket ended. No extensions (no permessage-deflate), no UTF-8 validation: it is a
 * bench instrument for our own servers, not a general client.
 *
 * `node --import tsx bench/lean-ws-check.ts` checks it against a real `ws` server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Called once per complete message; `buf[start..end)` is only valid during the call. */
export type OnMessage = (buf: Buffer, start: number, end: number, receivedAtMs: number) => void;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The largest message the parser accepts (the bench's events are ~600 bytes). */
const MAX_MESSAGE_BYTES = 16 * 2 ** 20;

/**
 * The server→client frame parser, separate from the socket so that any chunking of a byte stream can be fed to it.
 * Server frames must be unmasked; a masked one, an unknown opcode or a message over MAX_MESSAGE_BYTES is a protocol
 * error (`onError`).
 */
export class FrameParser {
  /** The unfinished frame at the end of earlier reads: a copy (reads arrive in a shared buffer), grown to the frame. */
  private pending = Buffer.alloc(0);
  private pendingLength = 0;
  /** Fragments of a message sent in several frames (FIN clear), joined at the last one. */
  private fragments: Buffer[] | null = null;
  private failed = false;

  constructor(
    private readonly onMessage: OnMessage,
    private readonly onControl: (opcode: number, payload: Buffer) => void,
    private readonly onError: (reason: string) => void,
  ) {}

  /** Feeds `chunk[start..end)`, which the caller may overwrite once this returns. */
  feed(chunk: Buffer, start: number, end: number, receivedAtMs: number): void {
    if (this.failed) return;
    let at = start;
    // First finish the frame begun in earlier reads, taking from this one only the bytes it still needs (so a frame
    // split over many reads costs one copy of each byte, and the bytes after it are parsed in place).
    while (this.pendingLength > 0) {
      const [need, whole] = this.pendingNeeds();
      if (need > MAX_MESSAGE_BYTES + 10) {
        this.fail(`frame of ${need} bytes`);
        return;
      }
      if (this.pending.length < need) {
        const grown = Buffer.allocUnsafe(Math.max(need, 1024));
        this.pending.copy(grown, 0, 0, this.pendingLength);
        this.pending = grown;
      }
      const take = Math.min(need - this.pendingLength, end - at);
      chunk.copy(this.pending, this.pendingLength, at, at + take);
      this.pendingLength += take;
      at += take;
      if (this.pendingLength < need) return;
      if (whole) {
        this.pendingLength = 0;
        const frame = this.pending;
        if (frame.length > 65_536) this.pending = Buffer.alloc(0);
        this.parse(frame, 0, need, receivedAtMs);
        if (this.failed) return;
      }
    }
    const rest = this.parse(chunk, at, end, receivedAtMs);
    if (this.failed || rest === end) return;
    if (this.pending.length < end - rest) this.pending = Buffer.allocUnsafe(Math.max(end - rest, 1024));
    chunk.copy(this.pending, 0, rest, end);
    this.pendingLength = end - rest;
  }

  /** Bytes held back waiting for the rest of a frame (0 between frames). */
  get pendingBytes(): number {
    return this.pendingLength;
  }

  /** How many bytes `pending` must hold to learn more: the header's first 2, the whole header, or the whole frame. */
  private pendingNeeds(): [bytes: number, wholeFrame: boolean] {
    const p = this.pending;
    if (this.pendingLength < 2) return [2, false];
    const l = p[1]! & 0x7f;
    const header = l < 126 ? 2 : l === 126 ? 4 : 10;
    if (this.pendingLength < header) return [header, false];
    const length = l < 126 ? l : l === 126 ? p.readUInt16BE(2) : p.readUInt32BE(2) !== 0 ? Infinity : p.readUInt32BE(6);
    return [header + length, true];
  }

  /** Handles the complete frames in `buf[at..stop)`; returns where the first incomplete one starts (`stop`: none). */
  private parse(buf: Buffer, at: number, stop: number, receivedAtMs: number): number {
    while (stop - at >= 2) {
      const b0 = buf[at]!;
      const b1 = buf[at + 1]!;
      if ((b1 & 0x80) !== 0) return this.fail('masked frame from the server');
      if ((b0 & 0x70) !== 0) return this.fail('RSV bits set (no extension was negotiated)');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (stop - at < 4) break;
        length = buf.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (stop - at < 10) break;
        if (buf.readUInt32BE(at + 2) !== 0) return this.fail('frame longer than 4 GiB');
        length = buf.readUInt32BE(at + 6);
        header = 10;
      }
      if (length > MAX_MESSAGE_BYTES) return this.fail(`frame of ${length} bytes`);
      if (stop - at < header + length) break;
      const from = at + header;
      const to = from + length;
      at = to;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode >= 0x8) {
        if (!fin || length > 125) return this.fail('bad control frame');
        if (opcode !== 0x8 && opcode !== 0x9 && opcode !== 0xa) return this.fail(`opcode ${opcode}`);
        // A copy: the handler may keep it (a pong echoes it) after the read buffer is reused.
        this.onControl(opcode, Buffer.from(buf.subarray(from, to)));
        if (this.failed) return stop;
      } else if (opcode === 0x1 || opcode === 0x2) {
        if (this.fragments !== null) return this.fail('new message inside a fragmented one');
        if (fin) this.onMessage(buf, from, to, receivedAtMs);
        else this.fragments = [Buffer.from(buf.subarray(from, to))];
      } else if (opcode === 0x0) {
        if (this.fragments === null) return this.fail('continuation without a message');
        this.fragments.push(Buffer.from(buf.subarray(from, to)));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          if (whole.length > MAX_MESSAGE_BYTES) return this.fail(`message of ${whole.length} bytes`);
          this.onMessage(whole, 0, whole.length, receivedAtMs);
        }
      } else return this.fail(`opcode ${opcode}`);
    }
    return at;
  }

  private fail(reason: string): number {
    this.failed = true;
    this.pendingLength = 0;
    this.fragments = null;
    this.onError(reason);
    return -1;
  }
}

/** A masked client frame (FIN set): pong, close, text. */
export function clientFrame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + 4 + n);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | n;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(n, 6);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header);
  for (let i = 0; i < n; i++) frame[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

export interface LeanWs {
  /** Sends a close frame (1000) and ends the socket; resolves once it is closed (destroyed after `graceMs`). */
  close(graceMs?: number): Promise<void>;
  /** Sends a masked text frame. */
  send(text: string): void;
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>;
  /** The close code the server sent (0 when none). */
  readonly closeCode: number;
}

export interface LeanWsOptions {
  /** Called for every close frame, ping or pong (after the ping is answered, the close replied to). */
  readonly onControl?: (opcode: number, payload: Buffer) => void;
  /** A protocol error after the upgrade (the socket is destroyed). Default: ignored (see `closed`). */
  readonly onError?: (reason: string) => void;
  /** Also called with every read's raw bytes after the upgrade (the self-check records the stream with it). */
  readonly onRaw?: (buf: Buffer, start: number, end: number) => void;
  /** How long the upgrade may take. Default 20 s. */
  readonly timeoutMs?: number;
}

/** Every client's reads land here (`onread` is synchronous: each read is consumed before the next one). */
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

/** Opens `url` (ws://host:port/path?query); resolves once the server's 101 has been checked. */
export function connectLean(url: URL, onMessage: OnMessage, options: LeanWsOptions = {}): Promise<LeanWs> {
  const key = randomBytes(16).toString('base64');
  const expectedAccept = createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
  return new Promise((resolve, reject) => {
    let upgraded = false;
    /** The response head so far (before the upgrade completes). */
    let head = Buffer.alloc(0);
    let closeCode = 0;
    let closeSent = false;
    let settleClosed: () => void = () => undefined;
    const closed = new Promise<void>((r) => (settleClosed = r));

    const sendClose = (payload: Uint8Array) => {
      if (closeSent || socket.destroyed) return;
      closeSent = true;
      socket.end(clientFrame(0x8, payload));
    };
    const parser = new FrameParser(
      onMessage,
      (opcode, payload) => {
        if (opcode === 0x9) {
          if (!closeSent && !socket.destroyed) socket.write(clientFrame(0xa, payload));
        } else if (opcode === 0x8) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          // Echo the code, as RFC 6455 §5.5.1 asks, then end our side.
          sendClose(payload.subarray(0, Math.min(2, payload.length)));
        }
        options.onControl?.(opcode, payload);
      },
      (reason) => {
        options.onError?.(reason);
        socket.destroy();
      },
    );

    const failUpgrade = (why: string) => {
      socket.destroy();
      reject(new Error(`WebSocket upgrade to ${url.host}${url.pathname}: ${why}`));
    };

    const onUpgradeBytes = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const endOfHead = head.indexOf('\r\n\r\n');
      if (endOfHead < 0) {
        if (head.length > 16 * 1024) failUpgrade('response head over 16 KiB');
        return;
      }
      const lines = head.toString('latin1', 0, endOfHead).split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
      if (status !== '101') return failUpgrade(`answered ${JSON.stringify(lines[0])}`);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return failUpgrade('no Upgrade: websocket');
      if (headers.get('sec-websocket-accept') !== expectedAccept) return failUpgrade('wrong Sec-WebSocket-Accept');
      if (headers.has('sec-websocket-extensions')) return failUpgrade('an extension was negotiated');
      upgraded = true;
      clearTimeout(timer);
      const rest = head.subarray(endOfHead + 4);
      head = Buffer.alloc(0);
      resolve({
        close: (graceMs = 1000) => {
          sendClose(Buffer.from([0x03, 0xe8]));
          const force = setTimeout(() => socket.destroy(), graceMs);
          force.unref();
          return closed.finally(() => clearTimeout(force));
        },
        send: (text) => {
          if (!closeSent && !socket.destroyed) socket.write(clientFrame(0x1, Buffer.from(text)));
        },
        closed,
        get closeCode() {
          return closeCode;
        },
      });
      if (rest.length > 0) {
        options.onRaw?.(rest, 0, rest.length);
        parser.feed(rest, 0, rest.length, performance.now());
      }
    };

    const socket: Socket = connect({
      host: url.hostname,
      port: Number(url.port || 80),
      noDelay: true,
      onread: {
        buffer: sharedReadBuffer,
        // `buf` is sharedReadBuffer; each read is consumed before the next one lands in it.
        callback: (nread) => {
          if (!upgraded) {
            onUpgradeBytes(Buffer.from(sharedReadBuffer.subarray(0, nread)));
            return true;
          }
          options.onRaw?.(sharedReadBuffer, 0, nread);
          parser.feed(sharedReadBuffer, 0, nread, performance.now());
          return true;
        },
      },
    });
    const timer = setTimeout(() => failUpgrade('timed out'), options.timeoutMs ?? 20_000);
    timer.unref();
    socket.once('connect', () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\n` +
          `Host: ${url.host}\r\n` +
          'Upgrade: websocket\r\n' +
          'Connection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${key}\r\n` +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    socket.on('error', (err) => {
      if (!upgraded) failUpgrade(err.message);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (!upgraded) failUpgrade('closed before the upgrade');
      settleClosed();
    });
  });
}
