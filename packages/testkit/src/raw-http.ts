import { connect, type Socket } from 'node:net';

/**
 * A raw TCP connection to an HTTP server, for what fetch cannot do: send half a request and stall, bind another
 * loopback address as the client's, or watch the server close the connection.
 */
export class RawHttpConnection {
  received = '';
  /** Resolves with everything the server sent once the connection is closed (by either side). */
  readonly closed: Promise<string>;
  private waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.received += text;
      for (const waiter of this.waiters.splice(0)) {
        if (waiter.pattern.test(this.received)) waiter.resolve(this.received);
        else this.waiters.push(waiter);
      }
    });
    // A reset (the server refused the connection or dropped it unread) is a close like any other here.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(this.received)));
  }

  static async open(port: number, options: { host?: string; localAddress?: string } = {}): Promise<RawHttpConnection> {
    const socket = connect({
      port,
      host: options.host ?? '127.0.0.1',
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const connection = new RawHttpConnection(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return connection;
  }

  /** Writes and resolves once the bytes were handed to the kernel (false if the connection went away first). */
  write(data: string | Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.socket.writable) return resolve(false);
      this.socket.write(data, (err) => resolve(!err));
    });
  }

  /** Resolves with what was received once it matches `pattern` (e.g. a whole answer), or rejects when the connection closes first. */
  until(pattern: RegExp): Promise<string> {
    if (pattern.test(this.received)) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      this.waiters.push({ pattern, resolve });
      const onClosed = (text: string) =>
        pattern.test(text) ? resolve(text) : reject(new Error(`closed before ${String(pattern)}: ${JSON.stringify(text.slice(0, 300))}`));
      this.closed.then(onClosed, reject);
    });
  }

  /** The status code and JSON body of the first answer received. */
  answer(): { status: number; body: unknown } {
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(this.received)?.[1] ?? 0);
    const headEnd = this.received.indexOf('\r\n\r\n');
    const head = this.received.slice(0, headEnd);
    let text = this.received.slice(headEnd + 4);
    if (/^transfer-encoding: *chunked/im.test(head)) {
      let unchunked = '';
      for (let at = 0; ;) {
        const lineEnd = text.indexOf('\r\n', at);
        const size = lineEnd === -1 ? 0 : parseInt(text.slice(at, lineEnd), 16);
        if (!size) break;
        unchunked += text.slice(lineEnd + 2, lineEnd + 2 + size);
        at = lineEnd + 2 + size + 2;
      }
      text = unchunked;
    }
    // Received as latin1 (one char per byte, so chunk sizes hold); the body itself is UTF-8.
    text = Buffer.from(text, 'latin1').toString('utf8');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status, body };
  }

  destroy(): void {
    this.socket.destroy();
  }
}
