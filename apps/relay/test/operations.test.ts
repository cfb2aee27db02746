import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { secretFingerprint } from '@hookway/protocol';
import { groupAtMessage, upgradeStatus, waitingFor, WebhookSender, WsCollector } from '@hookway/testkit';
import { SECRET, startRelay, type RunningRelay } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let running: RunningRelay | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('health endpoints', () => {
  it('/readyz answers 503 with the reason when the bus is not ready', async () => {
    const r = (running = await startRelay());
    await r.relay.stores.events.close();
    const res = await fetch(`${r.baseUrl}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not_ready', reasons: ['bus not ready'] });
    expect((await fetch(`${r.baseUrl}/healthz`)).status).toBe(200);
  });

  it('/healthz and /readyz answer JSON with bots, connections and uptime', async () => {
    const r = (running = await startRelay());
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    await r.sender().dispatch(groupAtMessage());
    await client.waitForFrames(1);
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`${r.baseUrl}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ bots: 1, connections: 1, webhooksAccepted: 1 });
      expect(body.uptimeSec).toEqual(expect.any(Number));
    }
    client.close();
  });

  it('readiness turns false the moment shutdown begins, and clients get 1001', async () => {
    const r = (running = await startRelay());
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    expect(r.relay.notReadyReason()).toBeUndefined();
    const closing = r.relay.close(5000);
    expect(r.relay.notReadyReason()).toBe('shutting down');
    expect((await client.closed).code).toBe(1001);
    expect(await closing).toBe(true);
    running = undefined;
  });
});

describe('graceful shutdown for load balancers', () => {
  it('drains first: /readyz answers 503 while the instance still serves, then clients get 1001', async () => {
    // The drain must outlast the test's own requests (a readiness check, a webhook, its delivery) on a busy machine.
    const r = (running = await startRelay({ shutdownDrainMs: 2000 }));
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const closing = r.relay.close(5000);
    const ready = await fetch(`${r.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reasons: ['shutting down'] });
    const body = groupAtMessage();
    expect((await r.sender().dispatch(body)).status).toBe(200);
    expect(await client.waitForFrames(1)).toEqual([body]);
    expect((await client.closed).code).toBe(1001);
    expect(await closing).toBe(true);
    running = undefined;
  });

  it('closes clients with 1001 in batches, not all at once', async () => {
    const r = (running = await startRelay({ shutdownCloseBatch: 2, shutdownBatchIntervalMs: 300 }));
    // When the server writes each close frame (first byte 0x88: FIN, opcode 8), timed where it happens. A client's
    // 'close' comes after a round trip through a process that a busy machine may stall for longer than a batch lasts.
    const closeFramesSentAt: number[] = [];
    r.relay.server.on('upgrade', (_req, socket: Socket) => {
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = (...args: unknown[]) => {
        if (Buffer.isBuffer(args[0]) && args[0][0] === 0x88) closeFramesSentAt.push(Date.now());
        return write(...args);
      };
    });
    const clients = await Promise.all(Array.from({ length: 6 }, () => WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`))));
    const closes = clients.map(async (c) => (await c.closed).code);
    await r.relay.close(5000);
    running = undefined;
    expect(await Promise.all(closes)).toEqual([1001, 1001, 1001, 1001, 1001, 1001]);
    expect(closeFramesSentAt).toHaveLength(6);
    // Three batches 300 ms apart: the last close comes well after the first.
    expect(closeFramesSentAt.at(-1)! - closeFramesSentAt[0]!).toBeGreaterThanOrEqual(450);
  });
});

describe('TCP keepalive', () => {
  it('is on for WebSocket and plain HTTP sockets, as the kernel reports it (ss -o)', async () => {
    const r = (running = await startRelay({ tcpKeepaliveDelayMs: 45_000 }));
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const { Agent, get } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve) => get(`${r.baseUrl}/healthz`, { agent }, (res) => res.resume().on('end', resolve)));
    const port = new URL(r.baseUrl).port;
    const sockets = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
    const lines = sockets.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/timer:\(keepalive,(4[0-5]|3\d)sec/);
    client.close();
    agent.destroy();
  });
});

describe('secrets in logs', () => {
  it('never writes the AppSecret, whatever the request looked like', async () => {
    const r = (running = await startRelay());
    const sender = r.sender();
    const client = await WsCollector.connect(r.wsUrl(`/ws?secret=${SECRET}`));
    const pathClient = await WsCollector.connect(r.wsUrl(`/ws/${SECRET}?after=nope`));
    await sender.validate('token', '1725442341');
    await sender.dispatch(groupAtMessage());
    await sender.dispatch(groupAtMessage(), { signature: null });
    await sender.dispatch(groupAtMessage(), { signature: 'f'.repeat(128) });
    await sender.post('{bad json', {});
    await sender.post('{"op":7}', {}, `/webhook/${SECRET}`);
    await fetch(`${r.baseUrl}/webhook/${SECRET}`);
    await fetch(`${r.baseUrl}/missing?secret=${SECRET}`);
    client.ws.send('x'.repeat(100_000));
    await client.closed;
    pathClient.close();
    await pathClient.closed;
    await r.close();
    running = undefined;
    const logs = r.logs.join('');
    expect(r.logs.length).toBeGreaterThan(8);
    expect(logs).toContain(secretFingerprint(SECRET));
    expect(logs).not.toContain(SECRET);
  });
});

describe('the process (pnpm start)', () => {
  const startProcess = (env: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'apps/relay/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    });
  const collect = (child: ChildProcessWithoutNullStreams) => {
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    return out;
  };

  it('refuses to start on a bad setting, naming the variable', async () => {
    const child = startProcess({ PORT: 'eighty', WS_PING_INTERVAL_MS: '5' });
    const out = collect(child);
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(out.stderr).toMatch(/PORT="eighty"/);
    expect(out.stderr).toMatch(/WS_PING_INTERVAL_MS="5": must be at least 1000/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s closes clients with 1001 and exits 0 well within 10 s', async (signal) => {
    const child = startProcess({});
    const out = collect(child);
    const listening = new Promise<number>((resolve) => {
      child.stdout.on('data', () => {
        const match = /"port":(\d+)/.exec(out.stdout);
        if (match) resolve(Number(match[1]));
      });
    });
    const port = await waitingFor(() => `a listening line: ${out.stdout}${out.stderr}`, listening);
    const client = await WsCollector.connect(`ws://127.0.0.1:${port}/ws?secret=${SECRET}`);
    const body = groupAtMessage();
    expect((await new WebhookSender(`http://127.0.0.1:${port}`, SECRET).dispatch(body)).status).toBe(200);
    await client.waitForFrames(1);
    const startedMs = Date.now();
    child.kill(signal);
    const [{ code }, [exitCode]] = await Promise.all([client.closed, once(child, 'exit') as Promise<[number]>]);
    expect(code).toBe(1001);
    expect(exitCode).toBe(0);
    expect(Date.now() - startedMs).toBeLessThan(10_000);
    expect(out.stdout).toMatch(/"msg":"stopped"/);
    expect(out.stdout).not.toContain(SECRET);
  });
});

describe('one failure throttle per process', () => {
  it('counts failed webhook signatures and failed client keys from one address together', async () => {
    const r = await startRelay({ authFailuresPerMinute: 2 });
    try {
      const forged = await r.sender().dispatch('{"op":0,"id":"X:1","d":{},"t":"C2C_MESSAGE_CREATE"}', { signature: 'a'.repeat(128) });
      expect(forged.status).toBe(401);
      expect(await upgradeStatus(r.wsUrl(`/ws?key=hwk_${'A'.repeat(43)}`))).toBe(401);
      // Two failures in all: the third attempt, on either role, is refused before any work.
      expect((await r.sender().dispatch('{"op":0,"id":"X:2","d":{},"t":"C2C_MESSAGE_CREATE"}')).status).toBe(429);
      expect(await upgradeStatus(r.wsUrl(`/ws?key=hwk_${'B'.repeat(43)}`))).toBe(429);
    } finally {
      await r.close();
    }
  });
});
