import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileClientKeyStore, newClientKey } from '@hookway/keys';
import { AppSecret } from '@hookway/protocol';
import { freePort, groupAtMessage, idOf, startRedisCluster, startRedisServer, WebhookSender, WsCollector } from '@hookway/testkit';
import { runHookway, startProcess } from './cluster.ts';
import { runCli } from '../src/cli/run-cli.ts';
import { SECRET, startRelay, type RunningRelay } from './harness.ts';
import { nginxBinary } from './nginx.ts';
import { selfSignedCertificate, startTlsNginx, type TlsNginx } from './tls-nginx.ts';

/**
 * `hookway check` against a real Hookway behind a real nginx terminating TLS with a certificate openssl made for this
 * run. The test's nginx listens on a free port, which QQ would not accept: `--allow-port` turns that line into ⚠.
 */
const APPID = '102000001';
const bots = new Map([[APPID, SECRET]]) as ReadonlyMap<string, string>;
const certificate = selfSignedCertificate();
const hasNginx = nginxBinary() !== undefined;

async function check(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const status = await runCli(['check', ...argv], {
    env: { LANG: 'en_US.UTF-8', ...env },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    nowMs: Date.now,
  });
  return {
    status,
    stdout,
    stderr,
    line: (what: string) => stdout.split('\n').find((l) => l.slice(2).startsWith(`${what}:`)) ?? `(no ${what} line)`,
  };
}

afterAll(() => rmSync(certificate.dir, { recursive: true, force: true }));

const bot = (secret = SECRET) => ['--appid', APPID, '--secret', secret];

describe.skipIf(!hasNginx)('hookway check behind nginx with TLS', () => {
  let relay: RunningRelay;
  let nginx: TlsNginx;
  let url: string;
  let keysFile: string;
  let key: string;

  beforeAll(async () => {
    keysFile = join(certificate.dir, 'keys.json');
    const made = newClientKey();
    key = made.key;
    await new FileClientKeyStore(keysFile).add({ name: 'home-pc', appid: APPID, hash: made.hash, createdAtMs: Date.now() });
    relay = await startRelay({ bots, clientKeysFile: keysFile });
    nginx = await startTlsNginx(await freePort(), Number(new URL(relay.baseUrl).port), certificate);
    url = `https://localhost:${nginx.port}/webhook`;
  });
  afterAll(async () => {
    await nginx?.stop();
    await relay?.close();
  });

  it('passes everything (exit 0) with the right secret, the CA and --allow-port', async () => {
    const r = await check([url, ...bot(), '--ca', certificate.cert, '--allow-port']);
    expect(r.stdout).not.toContain('✗');
    expect(r.status).toBe(0);
    expect(r.line('Port rule')).toMatch(/^⚠ Port rule: port \d+: QQ accepts only 80, 443, 8080 and 8443 \(allowed by --allow-port\)/);
    expect(r.line('DNS')).toMatch(/^✓ DNS: localhost → /);
    expect(r.line('TLS')).toMatch(/^✓ TLS: trusted, names localhost, expires on \d{4}-\d\d-\d\d \(in (29|30) days\)$/);
    expect(r.line('op 13')).toBe('✓ op 13: callback validation signed with the AppSecret, verified as QQ does');
    expect(r.line('/readyz')).toBe('✓ /readyz: ready');
    expect(r.line('Clock')).toMatch(/^✓ Clock/);
    expect(r.line('WebSocket /websocket')).toMatch(/^✓ .*Hello \(op 10\) received/);
    expect(r.line('WebSocket /ws')).toMatch(/^✓ /);
    expect(r.line('Test event')).toMatch(/^✓ Test event: a signed check event went through \/webhook and reached this check's own socket/);
    expect(r.stdout).not.toContain(SECRET);
  });

  it('fails the port rule on a port QQ does not accept, without --allow-port', async () => {
    const r = await check([url, ...bot(), '--ca', certificate.cert]);
    expect(r.status).toBe(1);
    expect(r.line('Port rule')).toMatch(/^✗ Port rule: port \d+: QQ accepts only 80, 443, 8080 and 8443$/);
    expect(r.stdout).toContain('fix: listen on 443 (or 8443) in nginx');
  });

  it('fails TLS when the certificate is not trusted (no --ca), and says how to fix it', async () => {
    const r = await check([url, ...bot(), '--allow-port']);
    expect(r.status).toBe(1);
    expect(r.line('TLS')).toMatch(/^✗ TLS: the certificate is not trusted \(/);
    expect(r.stdout).toContain('full chain (ssl_certificate fullchain.pem)');
    // The other steps still ran, so one report shows every problem.
    expect(r.line('op 13')).toMatch(/^✓/);
  });

  it('never sends the client key to a server whose certificate failed (anyone could be answering)', async () => {
    const r = await check([url, '--key', key, '--allow-port']);
    expect(r.status).toBe(1);
    expect(r.line('TLS')).toMatch(/^✗ TLS: the certificate is not trusted \(/);
    expect(r.line('Client key')).toBe('– Client key: not sent: the server’s certificate failed the TLS check');
  });

  it('shows a wrong secret as ✗ op 13 with the fix (exit 1)', async () => {
    const r = await check([url, ...bot('WrongSecret12345'), '--ca', certificate.cert, '--allow-port']);
    expect(r.status).toBe(1);
    expect(r.line('op 13')).toMatch(/^✗ op 13: the signature does not verify with the AppSecret given for bot 102000001/);
    expect(r.stdout).toContain(`fix: the AppSecret does not match the one Hookway has for appid ${APPID}`);
    expect(r.line('Test event')).toMatch(/^✗ Test event: refused: the signature does not verify/);
    expect(r.stdout).not.toContain('WrongSecret12345');
  });

  it('with --key: says the key is accepted and which bot it is for; refuses a revoked one', async () => {
    const good = await check([url, '--key', key, '--ca', certificate.cert, '--allow-port']);
    expect(good.status).toBe(0);
    expect(good.line('Client key')).toBe(
      `✓ Client key: accepted: key "home-pc" for bot ${APPID} (${AppSecret.of(SECRET).tag}), events: all`,
    );
    expect(good.line('op 13')).toBe('– op 13: needs --appid and --secret');
    expect(good.stdout).not.toContain(key);
    const bad = await check([url, '--key', newClientKey().key, '--ca', certificate.cert, '--allow-port']);
    expect(bad.status).toBe(1);
    expect(bad.line('Client key')).toMatch(/^✗ Client key: refused \(invalid_key\): no such client key/);
  });

  it('delivers the test event to the check alone: a raw client of the bot connected meanwhile gets nothing, the history holds nothing', async () => {
    const raw = await WsCollector.connect(relay.wsUrl(`/ws?secret=${SECRET}`));
    try {
      const before = groupAtMessage({ content: 'before the check' });
      expect((await relay.sender().dispatch(before)).status).toBe(200);
      await raw.waitForFrames(1);

      const r = await check([url, ...bot(), '--ca', certificate.cert, '--allow-port']);
      expect(r.line('Test event')).toMatch(/^✓ Test event/);

      // A real event after the check: had the check event reached this client, it would have come before this one.
      const after = groupAtMessage({ content: 'after the check' });
      expect((await relay.sender().dispatch(after)).status).toBe(200);
      expect(await raw.waitForFrames(2)).toEqual([before, after]);

      const history = await relay.relay.stores.events.history(AppSecret.of(SECRET));
      expect(history.events.map((e) => e.body.toString())).toEqual([before, after]);
      const resumed = await WsCollector.connect(relay.wsUrl(`/ws?secret=${SECRET}&after=${encodeURIComponent(idOf(before))}`));
      try {
        const [status, replayed] = await resumed.waitForFrames(2);
        expect(JSON.parse(status!)).toMatchObject({ hookway: 'resume', recovered: true, replayed: 1 });
        expect(replayed).toBe(after);
      } finally {
        resumed.close();
      }
    } finally {
      raw.close();
    }
  });

  it('speaks Chinese with LANG=zh_CN.UTF-8', async () => {
    const r = await check([url, ...bot('WrongSecret12345'), '--ca', certificate.cert, '--allow-port'], { LANG: 'zh_CN.UTF-8' });
    expect(r.status).toBe(1);
    expect(r.line('端口规则')).toMatch(/^⚠ 端口规则: 端口 \d+：QQ 只接受 80、443、8080、8443（--allow-port 允许）/);
    expect(r.line('op 13')).toMatch(/^✗ op 13: 签名无法用为机器人 102000001 提供的 AppSecret 验证/);
    expect(r.stdout).toContain('修复: AppSecret 与 Hookway 为 appid 102000001 配置的不一致');
    expect(r.line('/readyz')).toBe('✓ /readyz: 就绪');
    expect(r.stdout).toMatch(/\d+ 项通过，2 项失败，1 项警告，0 项未检查/);
  });
});

describe.skipIf(!hasNginx)('hookway check: a broken deployment', () => {
  it('shows a proxy without WebSocket upgrade headers as ✗ on both upgrade lines, with the nginx lines to add', async () => {
    const relay = await startRelay({ bots });
    const nginx = await startTlsNginx(await freePort(), Number(new URL(relay.baseUrl).port), certificate, { withoutUpgrade: true });
    try {
      const r = await check([`https://localhost:${nginx.port}/webhook`, ...bot(), '--ca', certificate.cert, '--allow-port']);
      expect(r.status).toBe(1);
      expect(r.line('op 13')).toMatch(/^✓/);
      for (const what of ['WebSocket /websocket', 'WebSocket /ws']) {
        expect(r.line(what)).toMatch(/^✗ .*passes the request on without its Upgrade\/Connection headers/);
      }
      expect(r.stdout).toContain('fix: add to the nginx location /ws (then nginx -s reload):');
      expect(r.stdout).toContain('proxy_set_header Upgrade $http_upgrade;');
      expect(r.stdout).toContain('proxy_set_header Connection "upgrade";');
    } finally {
      await nginx.stop();
      await relay.close();
    }
  });

  it('shows a stopped Hookway behind a running nginx as ✗ with a clear message (exit 1)', async () => {
    const relay = await startRelay({ bots });
    const nginx = await startTlsNginx(await freePort(), Number(new URL(relay.baseUrl).port), certificate);
    await relay.close();
    try {
      const r = await check([`https://localhost:${nginx.port}/webhook`, ...bot(), '--ca', certificate.cert, '--allow-port']);
      expect(r.status).toBe(1);
      expect(r.line('TLS')).toMatch(/^✓/);
      expect(r.line('op 13')).toBe('✗ op 13: the proxy answered 503 upstream_unavailable: it cannot reach Hookway');
      expect(r.stdout).toContain('fix: start Hookway (systemctl status hookway / pm2 status / 宝塔 Node 项目)');
      expect(r.line('/readyz')).toMatch(/^✗ \/readyz: the proxy answered 503 upstream_unavailable/);
    } finally {
      await nginx.stop();
    }
  });

  it('warns (⚠, exit 0) about a certificate that expires within 14 days', async () => {
    const soon = selfSignedCertificate(7);
    const relay = await startRelay({ bots });
    const nginx = await startTlsNginx(await freePort(), Number(new URL(relay.baseUrl).port), soon);
    try {
      const r = await check([`https://localhost:${nginx.port}/webhook`, ...bot(), '--ca', soon.cert, '--allow-port']);
      expect(r.line('TLS')).toMatch(/^⚠ TLS: trusted, names localhost, but expires on \d{4}-\d\d-\d\d \(in [67] days\)$/);
      expect(r.stdout).toContain('fix: renew it now');
      expect(r.status).toBe(0);
    } finally {
      await nginx.stop();
      await relay.close();
      rmSync(soon.dir, { recursive: true, force: true });
    }
  });

  it('shows nothing listening as ✗ connection refused, and the rest as not checked', async () => {
    const r = await check([`https://localhost:${await freePort()}/webhook`, ...bot(), '--allow-port']);
    expect(r.status).toBe(1);
    expect(r.line('TLS')).toMatch(/^✗ TLS: connection to localhost:\d+ refused: nothing listens there/);
    expect(r.line('op 13')).toMatch(/^– op 13: nothing answers on localhost:\d+/);
  });
});

describe.skipIf(!hasNginx)('hookway check in split mode (ingress and gateway processes over Redis)', () => {
  // On a Cluster the check channel is sharded (SPUBLISH/SSUBSCRIBE) like the bots' channels.
  it.each(['one Redis', 'a Redis Cluster'])(
    'passes as a process of its own on %s: the ingress publishes the test event, the gateway holding the check socket delivers it, a raw client gets nothing',
    async (kind) => {
      const redis = kind === 'one Redis' ? await startRedisServer() : await startRedisCluster();
      const env = {
        ...('url' in redis ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: redis.nodeList }),
        BOTS: `${APPID}:${SECRET}`,
      };
      const [ingress, gateway] = await Promise.all([startProcess('ingress', env), startProcess('gateway', env)]);
      const nginx = await startTlsNginx(await freePort(), { ingress: ingress.port, gateway: gateway.port }, certificate);
      const raw = await WsCollector.connect(`ws://127.0.0.1:${gateway.port}/ws?secret=${SECRET}`);
      try {
        const r = await runHookway(
          ['check', `https://localhost:${nginx.port}/webhook`, ...bot(), '--ca', certificate.cert, '--allow-port'],
          {
            LANG: 'C.UTF-8',
          },
        );
        expect(r.stdout).not.toContain('✗');
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/^✓ Test event: a signed check event went through \/webhook and reached this check's own socket/m);
        const after = groupAtMessage({ content: 'after the check' });
        expect((await new WebhookSender(ingress.baseUrl, SECRET).dispatch(after)).status).toBe(200);
        expect(await raw.waitForFrames(1)).toEqual([after]);
      } finally {
        raw.close();
        await nginx.stop();
        await Promise.all([ingress.stop(), gateway.stop()]);
        await redis.dispose();
      }
    },
    60_000,
  );
});

describe('hookway check usage', () => {
  it.each([
    [['https://h/webhook'], 'give the bot (--appid <appid> --secret <AppSecret>) or a client key'],
    [['https://h/webhook', '--appid', APPID], 'give --appid and --secret together'],
    [['--appid', APPID, '--secret', SECRET], 'give the public URL'],
    [['ftp://h', '--key', 'k'], 'ftp: is not http: or https:'],
    [[`https://h/webhook?secret=${SECRET}`, '--key', 'k'], 'without a query'],
    [['https://h', '--appid', APPID, '--secret', 'x y'], '--secret is not an AppSecret'],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const r = await check(argv);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain(SECRET);
  });
});
