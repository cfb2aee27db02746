import { request } from 'node:http';
import { signDispatch } from '@hookway/protocol';

/** Posts webhooks to a Hookway (or any receiver) signed exactly as the QQ platform signs them. */
export interface SentWebhook {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface SendOptions {
  /** Unix seconds; now by default. */
  readonly timestamp?: string;
  /** Override or drop (`null`) the signature header. */
  readonly signature?: string | null;
  readonly headers?: Record<string, string>;
  /** Path to post to instead of `/webhook?secret=<secret>`. */
  readonly path?: string;
}

export class WebhookSender {
  constructor(
    readonly baseUrl: string,
    readonly secret: string,
    /** The client's own address (another loopback address such as 127.0.0.2 is another client to the server). */
    readonly localAddress?: string,
  ) {}

  /** The same sender, connecting from `localAddress`. */
  from(localAddress: string): WebhookSender {
    return new WebhookSender(this.baseUrl, this.secret, localAddress);
  }

  /** Signs and posts one op 0 body (a string is sent byte for byte). */
  async dispatch(body: string | Buffer, options: SendOptions = {}): Promise<SentWebhook> {
    const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
    const signature = options.signature === undefined ? signDispatch(this.secret, timestamp, raw) : options.signature;
    return this.post(
      raw,
      {
        'x-signature-timestamp': timestamp,
        ...(signature === null ? {} : { 'x-signature-ed25519': signature }),
        'x-signature-method': 'Ed25519',
        ...options.headers,
      },
      options.path,
    );
  }

  /** Posts an op 13 validation request, as the console does when the callback URL is saved. */
  async validate(plainToken: string, eventTs: string, path?: string): Promise<SentWebhook> {
    return this.post(Buffer.from(JSON.stringify({ d: { plain_token: plainToken, event_ts: eventTs }, op: 13 })), {}, path);
  }

  /** Posts arbitrary bytes with arbitrary headers (for malformed-input tests). */
  async post(body: Buffer | string, headers: Record<string, string> = {}, path?: string): Promise<SentWebhook> {
    const url = new URL(path ?? `/webhook?secret=${encodeURIComponent(this.secret)}`, this.baseUrl);
    if (this.localAddress !== undefined)
      return postFrom(this.localAddress, url, { 'content-type': 'application/json', 'user-agent': 'QQBot-Callback', ...headers }, body);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'QQBot-Callback', ...headers },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
  }
}

/** One POST over node:http from a chosen local address (fetch cannot bind one). */
function postFrom(localAddress: string, url: URL, headers: Record<string, string>, body: Buffer | string): Promise<SentWebhook> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers: answerHeaders, text, json: <T>() => JSON.parse(text) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
