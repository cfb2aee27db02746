import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RelayStores } from '../src/index.ts';
import { FakeQqPlatform, groupAtMessage, until, waitingFor } from '@hookway/testkit';
import { SECRET, testStores, startRelay, type RunningRelay } from './harness.ts';

/**
 * Real, unmodified SDKs from npm, each in its own process, talking to Hookway exactly as they would talk to the
 * platform's gateway — only with the one setting each SDK offers (docs/sdks.md).
 */
const SDK_DIR = fileURLToPath(new URL('./sdk/', import.meta.url));
const BOT = { appid: '102000007', secret: SECRET, userId: '6158788878435714165', username: 'e2e机器人' };
const memoryBus = () => testStores();

const C2C = (content: string) =>
  JSON.stringify({
    op: 0,
    id: `C2C_MESSAGE_CREATE:${Math.random().toString(36).slice(2)}`,
    d: {
      id: `ROBOT1.0_${Math.random().toString(36).slice(2)}`,
      content,
      timestamp: '2025-05-14T21:29:29+08:00',
      author: {
        id: 'A317B61B65FF0E81CD3C30F45AEBA2CC',
        user_openid: 'A317B61B65FF0E81CD3C30F45AEBA2CC',
        union_openid: 'A317B61B65FF0E81CD3C30F45AEBA2CC',
      },
      message_scene: { source: 'default' },
      message_type: 0,
    },
    t: 'C2C_MESSAGE_CREATE',
  });
const GUILD = (t: 'AT_MESSAGE_CREATE' | 'DIRECT_MESSAGE_CREATE', content: string) =>
  JSON.stringify({
    op: 0,
    id: `${t}:${Math.random().toString(36).slice(2)}`,
    d: {
      author: { id: '1234567890123456789', username: 'abc', bot: false },
      channel_id: '100010',
      guild_id: '18700000000001',
      content,
      id: `08ef${Math.random().toString(16).slice(2)}`,
      member: { joined_at: '2021-04-12T16:34:42+08:00', roles: ['1'] },
      seq: 101,
      seq_in_channel: '101',
      timestamp: '2021-05-20T15:14:58+08:00',
      ...(t === 'DIRECT_MESSAGE_CREATE' ? { direct_message: true, src_guild_id: '18700000000002' } : {}),
    },
    t,
  });

class SdkProcess {
  readonly lines: Record<string, unknown>[] = [];
  output = '';
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => {
      this.output += d.toString();
      for (const line of d.toString().split('\n')) {
        if (line.startsWith('{')) {
          try {
            this.lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // SDK log lines
          }
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
  }
  /** Resolves once the SDK has printed a line that passes `check`; rejects if it exits first. */
  async waitFor(what: string, check: (line: Record<string, unknown>) => boolean): Promise<void> {
    const printed = new Promise<void>((resolve, reject) => {
      const look = () => {
        if (!this.lines.some(check)) return;
        this.child.stdout.off('data', look);
        this.child.off('exit', exited);
        resolve();
      };
      const exited = () => reject(new Error(`SDK exited before printing ${what}; output:\n${this.output.slice(-3000)}`));
      this.child.stdout.on('data', look);
      this.child.once('exit', exited);
      look();
    });
    await waitingFor(() => `the SDK to print ${what}; output:\n${this.output.slice(-3000)}`, printed);
  }
  count(check: (line: Record<string, unknown>) => boolean): number {
    return this.lines.filter(check).length;
  }
}

/** A minimal load balancer: new TCP connections go to whichever Hookway instance is current. */
class Front {
  private backendPort = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}
  static async start(): Promise<Front> {
    const server = createServer();
    const front = new Front(server);
    server.on('connection', (client: Socket) => {
      const upstream = connect(front.backendPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        front.sockets.add(s);
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => front.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return front;
  }
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  routeTo(relay: RunningRelay): void {
    this.backendPort = Number(new URL(relay.baseUrl).port);
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

let fake: FakeQqPlatform;
let front: Front;
let relay: RunningRelay | undefined;
let sdk: SdkProcess | undefined;
beforeEach(async () => {
  fake = await new FakeQqPlatform([BOT]).start();
  front = await Front.start();
});
afterEach(async () => {
  sdk?.child.kill('SIGKILL');
  sdk = undefined;
  await relay?.close();
  relay = undefined;
  await front.stop();
  await fake.stop();
});

const config = () => ({
  qqApiBase: fake.baseUrl,
  qqTokenUrl: fake.tokenUrl,
  bots: new Map([[BOT.appid, BOT.secret]]) as ReadonlyMap<string, string>,
  gatewayCloseGraceMs: 200,
  // Behind a load balancer Hookway cannot see the address clients use: PUBLIC_URL says it (docs/sdks.md).
  publicUrl: `http://127.0.0.1:${front.port}`,
});
/** Another instance takes over behind the front, then the old one shuts down (op 7 → 4009 to its clients). */
async function replaceRelay(bus: RelayStores): Promise<RunningRelay> {
  const next = await startRelay(config(), { stores: bus });
  front.routeTo(next);
  await relay?.close();
  relay = next;
  return next;
}
async function firstRelay(bus: RelayStores): Promise<RunningRelay> {
  relay = await startRelay(config(), { stores: bus });
  front.routeTo(relay);
  return relay;
}
/**
 * The second half of every SDK test: op 7 → 4009 as the next instance takes over (same bus: the SDK must resume),
 * then an instance that never heard of the session (op 9 → 4006: the SDK must identify again).
 */
async function survivesReconnectAndInvalidSession(bus: RelayStores, event: (label: string) => string, firstLabel: string): Promise<void> {
  const second = await replaceRelay(bus);
  await second.sender().dispatch(event('after-op7'));
  await sdk!.waitFor('the event after op 7', (l) => String(l.message ?? '').includes('after-op7'));
  expect(second.relay.gateway.stats().gatewayResumes).toBeGreaterThanOrEqual(1);

  const third = await replaceRelay(memoryBus());
  await until(() => third.relay.gateway.stats().gatewayInvalidSessions >= 1, 'the SDK to be told its session is gone (op 9)');
  await third.sender().dispatch(event('after-op9'));
  await sdk!.waitFor('the event after op 9', (l) => String(l.message ?? '').includes('after-op9'));
  expect(third.relay.gateway.stats().gatewayInvalidSessions).toBeGreaterThanOrEqual(1);
  expect(sdk!.count((l) => String(l.message ?? '').includes(firstLabel))).toBe(1);
}

function runSdk(script: string, env: Record<string, string>): SdkProcess {
  return new SdkProcess(
    spawn(process.execPath, [`${SDK_DIR}${script}`], { cwd: SDK_DIR, env: { ...process.env, APPID: BOT.appid, SECRET, ...env } }),
  );
}

describe('@satorijs/adapter-qq (Koishi) through Hookway', { timeout: 90_000 }, () => {
  it('receives group, C2C and guild events, replies through the pass-through, resumes after op 7 and re-identifies after op 9', async () => {
    const bus = memoryBus();
    relay = await firstRelay(bus);
    sdk = runSdk('satori-bot.mjs', { HOOKWAY: `127.0.0.1:${front.port}` });
    await sdk.waitFor('login online', (l) => l.login === 1);

    await relay.sender().dispatch(groupAtMessage({ content: 'group-1' }));
    await relay.sender().dispatch(C2C('c2c-1'));
    await relay.sender().dispatch(GUILD('AT_MESSAGE_CREATE', 'guild-1'));
    for (const m of ['group-1', 'c2c-1', 'guild-1']) await sdk.waitFor(`a reply to ${m}`, (l) => String(l.replied ?? '').includes(m));
    expect(fake.callsTo('/v2/groups/').some((c) => JSON.stringify(c.body).includes('pong'))).toBe(true);
    expect(fake.callsTo('/v2/users/').some((c) => JSON.stringify(c.body).includes('pong'))).toBe(true);
    expect(fake.callsTo('/channels/100010/messages')).toHaveLength(1);

    await survivesReconnectAndInvalidSession(bus, (label) => groupAtMessage({ content: label }), 'group-1');
  });
});

describe('qq-guild-bot (old official Node SDK) through Hookway', { timeout: 90_000 }, () => {
  it('receives guild and DM events, replies through the pass-through, resumes after op 7 and re-identifies after op 9', async () => {
    const bus = memoryBus();
    relay = await firstRelay(bus);
    sdk = runSdk('guild-bot.mjs', { HTTPS_PROXY: `http://127.0.0.1:${front.port}`, https_proxy: `http://127.0.0.1:${front.port}` });
    await sdk.waitFor('READY', (l) => l.ready === true);

    await relay.sender().dispatch(GUILD('AT_MESSAGE_CREATE', 'guild-1'));
    await relay.sender().dispatch(GUILD('DIRECT_MESSAGE_CREATE', 'dm-1'));
    for (const m of ['guild-1', 'dm-1']) await sdk.waitFor(`a reply to ${m}`, (l) => String(l.replied ?? '').includes(m));
    const reply = fake.callsTo('/channels/100010/messages')[0]!;
    expect(reply.authorization).toBe(`QQBot ${fake.tokenOf(BOT.appid)}`);
    expect(reply.body).toMatchObject({ content: 'pong guild-1' });
    expect(fake.callsTo('/dms/18700000000001/messages')).toHaveLength(1);

    await survivesReconnectAndInvalidSession(bus, (label) => GUILD('AT_MESSAGE_CREATE', label), 'guild-1');
  });
});

describe('qq-official-bot (zhinjs) through Hookway', { timeout: 90_000 }, () => {
  it('receives group, C2C and guild events, replies through the pass-through, resumes after op 7 and re-identifies after op 9', async () => {
    const bus = memoryBus();
    relay = await firstRelay(bus);
    sdk = runSdk('official-bot.mjs', { HTTPS_PROXY: `http://127.0.0.1:${front.port}`, https_proxy: `http://127.0.0.1:${front.port}` });
    await sdk.waitFor('ready', (l) => l.ready === true);

    await relay.sender().dispatch(groupAtMessage({ content: 'group-1' }));
    await relay.sender().dispatch(C2C('c2c-1'));
    await relay.sender().dispatch(GUILD('AT_MESSAGE_CREATE', 'guild-1'));
    for (const m of ['group-1', 'c2c-1', 'guild-1']) await sdk.waitFor(`a reply to ${m}`, (l) => String(l.replied ?? '').includes(m));
    expect(fake.callsTo('/v2/groups/').some((c) => JSON.stringify(c.body).includes('pong'))).toBe(true);
    expect(fake.callsTo('/v2/users/').some((c) => JSON.stringify(c.body).includes('pong'))).toBe(true);

    await survivesReconnectAndInvalidSession(bus, (label) => groupAtMessage({ content: label }), 'group-1');
  });
});
