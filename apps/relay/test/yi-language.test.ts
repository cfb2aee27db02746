import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { newClientKey } from '@hookway/keys';
import { FakeQqPlatform, groupAtMessage, waitingFor } from '@hookway/testkit';
import { SECRET, startRelay, type RunningRelay } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const DOC = readFileSync(`${ROOT}docs/yi-language.md`, 'utf8');
const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

/** The code block after `<!-- frame:name -->` in the page: what a 易语言 user copies. */
function frame(name: string): string {
  const match = new RegExp(`<!-- frame:${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  if (!match) throw new Error(`docs/yi-language.md has no frame:${name} block`);
  return match[1]!;
}

/**
 * A WebSocket client made by hand on a TCP socket, as simple WebSocket modules are: it writes the handshake text,
 * masks its text frames, reads frames — and never answers a ping.
 */
class RawTcpClient {
  private buffer = Buffer.alloc(0);
  private handshake: string | undefined;
  readonly texts: string[] = [];
  private read = 0;
  pings = 0;
  closeCode: number | undefined;
  ended = false;
  private wake: (() => void)[] = [];
  onPing: () => void = () => {};

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      for (const w of this.wake.splice(0)) w();
    });
    socket.on('close', () => {
      this.ended = true;
      for (const w of this.wake.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async open(port: number, request: string): Promise<RawTcpClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawTcpClient(socket);
    socket.write(`${request.split('\n').join('\r\n')}\r\n\r\n`);
    return client;
  }

  /** The handshake answer (status line and headers). */
  async answer(): Promise<string> {
    await this.until(() => this.handshake !== undefined, 'the handshake answer');
    return this.handshake!;
  }

  /** The next text frame not read yet. */
  async next(): Promise<string> {
    await this.until(() => this.texts.length > this.read, 'a text frame');
    return this.texts[this.read++]!;
  }

  async until(check: () => boolean, what: string): Promise<void> {
    await waitingFor(
      what,
      (async () => {
        while (!check()) {
          if (this.ended) throw new Error(`the connection ended while waiting for ${what} (close code ${this.closeCode})`);
          await new Promise<void>((resolve) => this.wake.push(resolve));
        }
      })(),
    );
  }

  /** One masked text frame, as RFC 6455 requires of clients. */
  sendText(text: string): void {
    const payload = Buffer.from(text, 'utf8');
    const mask = randomBytes(4);
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  private parse(): void {
    if (this.handshake === undefined) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.handshake = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4);
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0]! & 0x0f;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x1) this.texts.push(payload.toString('utf8'));
      else if (opcode === 0x9) {
        this.pings++;
        this.onPing();
      } else if (opcode === 0x8) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    }
  }
}

const relays: RunningRelay[] = [];
const sockets: Socket[] = [];
let platform: FakeQqPlatform | undefined;
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const r of relays.splice(0)) await r.close();
  await platform?.stop();
});

describe('docs/yi-language.md, frame by frame, over a raw TCP socket that never answers pings', () => {
  it('connects, receives, replies, heartbeats without pongs, and resumes exactly as the page says', async () => {
    platform = await new FakeQqPlatform([BOT]).start();
    const relay = await startRelay({
      bots: new Map([[BOT.appid, SECRET]]),
      qqApiBase: platform.baseUrl,
      qqTokenUrl: platform.tokenUrl,
      clientKeysFile: join(mkdtempSync(join(tmpdir(), 'hookway-yi-')), 'keys.json'),
      // Long enough that a busy machine's event-loop stall cannot pass for a missed heartbeat (the check runs on a timer,
      // before the socket's waiting heartbeat is read); the test waits for pings, never for time.
      wsPingIntervalMs: 1000,
      wsTerminateUnresponsive: true,
    });
    relays.push(relay);
    const port = Number(new URL(relay.baseUrl).port);
    const { key, hash } = newClientKey();
    await relay.relay.stores.keys.add({ name: 'yi', appid: BOT.appid, hash, createdAtMs: Date.now() });
    const request = frame('connect-request').replace('<域名>', `127.0.0.1:${port}`).replace('<密钥>', key);

    // 1. Connect: the page's request, the page's answer.
    const client = await RawTcpClient.open(port, request);
    sockets.push(client.socket);
    const answer = (await client.answer()).split('\r\n');
    for (const line of frame('connect-response').split('\n')) expect(answer.map((l) => l.toLowerCase())).toContain(line.toLowerCase());
    // 4. Heartbeat: never a pong; the page's heartbeat whenever a ping shows the interval has come round.
    client.onPing = () => client.sendText(frame('heartbeat'));
    expect(await client.next()).toBe(frame('heartbeat-ack'));

    // 2. An event, with the fields the page says to keep.
    const body = groupAtMessage({ content: ' 你好' });
    expect((await relay.sender().dispatch(body)).status).toBe(200);
    let text = await client.next();
    while (text === frame('heartbeat-ack')) text = await client.next();
    const event = JSON.parse(text) as { id: string; d: { id: string; group_openid: string } };
    expect(text).toBe(body);
    const documented = JSON.parse(frame('event')) as Record<string, unknown> & { d: Record<string, unknown> };
    for (const field of Object.keys(documented)) expect(event).toHaveProperty(field);
    for (const field of ['id', 'group_openid', 'content']) expect(event.d).toHaveProperty(field);

    // 5. A call and its result; a refused call and the page's error result, word for word.
    const results: Record<string, unknown>[] = [];
    const nextResult = async () => {
      for (;;) {
        const t = await client.next();
        if (t.startsWith('{"hookway":"result"')) return JSON.parse(t) as Record<string, unknown>;
      }
    };
    client.sendText(frame('call').replace('<group_openid>', event.d.group_openid).replace('<事件的 d.id>', event.d.id));
    results.push(await nextResult());
    const documentedResult = JSON.parse(frame('result')) as { body: Record<string, unknown> };
    expect(results[0]).toMatchObject({ ...documentedResult, body: expect.any(Object) });
    expect(Object.keys(results[0]!.body as object).sort()).toEqual(Object.keys(documentedResult.body).sort());
    expect(platform.calls.at(-1)).toMatchObject({
      method: 'POST',
      path: `/v2/groups/${event.d.group_openid}/messages`,
      body: { msg_type: 0, content: '收到', msg_id: event.d.id, msg_seq: 1 },
      authorization: `QQBot ${platform.tokenOf(BOT.appid)}`,
    });
    client.sendText(frame('call-not-allowed'));
    expect(await nextResult()).toEqual(JSON.parse(frame('result-error')));

    // Still here after several unanswered pings.
    const pingsSoFar = client.pings;
    await client.until(() => client.pings >= pingsSoFar + 3, 'three more pings');
    expect(relay.relay.gateway.stats().unresponsiveTerminated).toBe(0);

    // 3. Resume: drop the connection, miss an event, come back with after.
    client.socket.destroy();
    const missed = groupAtMessage({ content: ' 又来了' });
    expect((await relay.sender().dispatch(missed)).status).toBe(200);
    const resumeLine = frame('resume-request').replace('<上次处理的事件的 id>', encodeURIComponent(event.id));
    const again = await RawTcpClient.open(port, [resumeLine, ...request.split('\n').slice(1)].join('\n'));
    sockets.push(again.socket);
    expect((await again.answer()).split('\r\n')[0]).toBe(frame('connect-response').split('\n')[0]);
    again.onPing = () => again.sendText(frame('heartbeat'));
    expect(JSON.parse(await again.next())).toEqual(JSON.parse(frame('resume-status').replace('<上次处理的事件的 id>', event.id)));
    expect(await again.next()).toBe(missed);
  });
});
