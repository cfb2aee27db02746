import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One API call the fake platform received. */
export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly host: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface FakeBot {
  readonly appid: string;
  readonly secret: string;
  readonly userId: string;
  readonly username: string;
}

/**
 * A fake QQ platform for tests: the token service (one stable token per appid, as the real one hands out the same
 * token until its last 60 s), `/users/@me`, and message endpoints that record what they were sent.
 */
export class FakeQqPlatform {
  readonly calls: RecordedCall[] = [];
  private readonly tokens = new Map<string, { token: string; expiresAtMs: number }>();
  private generation = 0;
  private server: Server | undefined;
  /** While true the token service answers 503 (an outage). */
  tokenOutage = false;
  /** Lifetime of newly issued tokens, in seconds (the platform's is 7200). */
  tokenLifetimeSec = 7200;
  /** While true, API requests (not token requests) are recorded but not answered until `releaseApi()`. */
  holdApi = false;
  private held: (() => void)[] = [];
  /** Token requests received, per appid (which process fetched a token shows in `calls` by its headers, too). */
  readonly tokenRequests = new Map<string, number>();
  baseUrl = '';

  constructor(readonly bots: readonly FakeBot[]) {}

  get tokenUrl(): string {
    return `${this.baseUrl}/app/getAppAccessToken`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-tps-trace-id': 'fake-trace' });
          res.end(body === undefined ? '' : JSON.stringify(body));
        },
        (err: unknown) => {
          // A broken fake must fail the test loudly, not hang it.
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `fake platform error: ${String(err)}` }));
        },
      );
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** The token the platform currently hands out for the bot (issuing one if needed). */
  tokenOf(appid: string): string {
    const now = Date.now();
    let entry = this.tokens.get(appid);
    if (!entry || entry.expiresAtMs <= now) {
      entry = {
        token: `tok-${appid}-${++this.generation}-${Math.random().toString(36).slice(2, 10)}`,
        expiresAtMs: now + this.tokenLifetimeSec * 1000,
      };
      this.tokens.set(appid, entry);
    }
    return entry.token;
  }

  /** API requests held by `holdApi`, still unanswered. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Answers every held API request and stops holding new ones. */
  releaseApi(): void {
    this.holdApi = false;
    for (const release of this.held.splice(0)) release();
  }

  /** The next token request for this bot gets a new token (the old one stays valid until it expires). */
  rotate(appid: string): void {
    this.tokens.delete(appid);
  }

  private botByToken(authorization: string | undefined): FakeBot | undefined {
    const token = /^QQBot\s+(\S+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return undefined;
    return this.bots.find((b) => {
      const issued = this.tokens.get(b.appid);
      return issued !== undefined && issued.token === token && issued.expiresAtMs > Date.now();
    });
  }

  callsTo(pathPrefix: string): RecordedCall[] {
    return this.calls.filter((c) => c.path.startsWith(pathPrefix));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // keep the text
    }
    const path = (req.url ?? '/').replace(/^[a-z]+:\/\/[^/]*/i, '');
    this.calls.push({
      method: req.method ?? 'GET',
      path,
      authorization: req.headers.authorization,
      host: req.headers.host,
      headers: { ...req.headers },
      body,
    });

    // Routed on the path without its query (recorded with it).
    const route = path.split('?')[0]!;
    if (req.method === 'POST' && route === '/app/getAppAccessToken' && this.tokenOutage) {
      return { status: 503, body: { code: 503, message: 'try again later' } };
    }
    if (req.method === 'POST' && route === '/app/getAppAccessToken') {
      const { appId, clientSecret } = (body ?? {}) as { appId?: unknown; clientSecret?: unknown };
      if (typeof appId === 'string') this.tokenRequests.set(appId, (this.tokenRequests.get(appId) ?? 0) + 1);
      const bot = this.bots.find((b) => b.appid === appId && b.secret === clientSecret);
      if (!bot) return { status: 200, body: { code: 100016, message: 'invalid appid or secret' } };
      const token = this.tokenOf(bot.appid);
      const left = Math.max(1, Math.round((this.tokens.get(bot.appid)!.expiresAtMs - Date.now()) / 1000));
      return { status: 200, body: { access_token: token, expires_in: String(left) } };
    }
    if (this.holdApi) await new Promise<void>((resolve) => this.held.push(resolve));
    const bot = this.botByToken(req.headers.authorization);
    if (!bot) return { status: 401, body: { code: 11244, message: 'token not exist or expire' } };
    if (req.method === 'GET' && route === '/users/@me') {
      return { status: 200, body: { id: bot.userId, username: bot.username, avatar: '', union_openid: 'U1' } };
    }
    const now = new Date().toISOString();
    if (req.method === 'POST' && /^\/v2\/(groups|users)\/[^/]+\/messages$/.test(route)) {
      return { status: 200, body: { id: `msg-${this.calls.length}`, timestamp: now } };
    }
    const channel = /^\/(channels|dms)\/([^/]+)\/messages$/.exec(route);
    if (req.method === 'POST' && channel) {
      return {
        status: 200,
        body: {
          id: `msg-${this.calls.length}`,
          channel_id: channel[2],
          guild_id: '18700000000001',
          content: (body as { content?: string } | undefined)?.content ?? '',
          timestamp: now,
          author: { id: bot.userId, username: bot.username, bot: true },
        },
      };
    }
    if (req.method === 'PUT' && route.startsWith('/interactions/')) return { status: 204 };
    if (req.method === 'DELETE' && /^\/v2\/(groups|users)\/[^/]+\/messages\/[^/]+$/.test(route)) return { status: 200, body: {} };
    return { status: 404, body: { code: 404, message: `fake platform has no ${req.method} ${route}` } };
  }
}
