import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { waitingFor } from './wait.ts';

/** A real WebSocket client that records every text frame and how the connection ended. */
export class WsCollector {
  readonly frames: string[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(data.toString());
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), { statusCode: res.statusCode })),
      );
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolve({ code, reason: reason.toString() });
      });
    });
    this.opened.catch(() => {});
  }

  static async connect(url: string, options?: WebSocket.ClientOptions): Promise<WsCollector> {
    const c = new WsCollector(url, options);
    await c.opened;
    return c;
  }

  /**
   * Waits until at least `count` frames arrived; rejects if the connection closes first. No deadline unless
   * `timeoutMs` is given: the test's timeout bounds the wait, and its report says how many frames came.
   */
  async waitForFrames(count: number, timeoutMs?: number): Promise<string[]> {
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    const arriving = async () => {
      while (this.frames.length < count) {
        if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`connection closed after ${this.frames.length} of ${count} frames`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} frames, got ${this.frames.length}`);
        await new Promise<void>((resolve) => {
          const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined;
          this.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    };
    await waitingFor(() => `${count} frames on ${this.ws.url} (got ${this.frames.length})`, arriving());
    return this.frames.slice(0, count);
  }

  close(): void {
    this.ws.close();
  }
}

/** Rejects with the HTTP status an upgrade was refused with. */
export async function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  const c = new WsCollector(url, options);
  try {
    await c.opened;
    c.close();
    return 101;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode ?? -1;
  }
}

export interface UpgradeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The refusal's body (Hookway answers `{error, message}`), empty when the upgrade succeeded. */
  readonly body: string;
  /** The parsed body, when it is JSON. */
  readonly json: { error?: string; message?: string } | undefined;
}

/** What an upgrade was answered with: 101 (the socket is closed at once), or the refusal's status, headers and body. */
export async function upgradeAnswer(url: string, options: WebSocket.ClientOptions = {}): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, headers: {}, body: '', json: undefined });
    });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        let json: UpgradeAnswer['json'];
        try {
          json = JSON.parse(body) as UpgradeAnswer['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? -1, headers: res.headers, body, json });
      });
    });
    ws.on('error', reject);
  });
}
