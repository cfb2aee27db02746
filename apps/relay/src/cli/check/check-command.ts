import { HOOKWAY } from '../invocation.ts';
import { randomBytes, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AppSecret, checkEventBody, keysForSecret, signDispatch, type CheckReadyFrame } from '@hookway/protocol';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import {
  httpCall,
  inspectTls,
  nextFrame,
  problemOf,
  resolveHost,
  upgrade,
  within,
  withRoots,
  type Failure,
  type Transport,
} from './probes.ts';
import { languageOf, renderReport, sayIn, type CheckLine, type Say } from './report.ts';

export const CHECK_HELP = `Usage: ${HOOKWAY} check <public URL> --appid <appid> --secret <AppSecret> [--key <client key>]
       ${HOOKWAY} check <public URL> --key <client key>

Checks a deployed Hookway from the outside, as the QQ platform and a bot see it, and prints a checklist
(✓ passed, ⚠ attention, ✗ failed with the fix). The exit status is 1 when anything failed.
  <public URL>       the callback URL given to q.qq.com (https://host/webhook), or just https://host
  --appid, --secret  the bot: op 13 callback validation (the signature is verified as QQ does) and a signed
                     test event that only this check's own socket receives (no client of the bot sees it)
  --key <key>        a client key: is it accepted, and for which bot (the check's socket, not an ordinary client)
  --ca <file>        also trust this CA certificate (PEM), for a private CA or a test setup
  --allow-port       a port QQ does not accept (not 80, 443, 8080 or 8443) is a warning, not a failure: for a port
                     forwarded from an allowed one, or a test
  --timeout <ms>     how long each step may take (default 10000)

Checked: DNS, the TLS certificate (trusted chain, hostname, days to expiry), the port rule, op 13, /readyz,
the WebSocket upgrade on /ws and /websocket through the proxy in front, the server's clock (Date header), and
the test event. Output in 中文 when LANG or LC_ALL starts with zh.
`;

/** QQ calls back only on these ports, over HTTPS (qq-protocol.md §2.1). */
export const QQ_PORTS: readonly number[] = [80, 443, 8080, 8443];
/** Fewer days than this before the certificate expires is a warning. */
const EXPIRY_WARN_DAYS = 14;
/** A server clock further off than this is a warning: signatures carry timestamps. */
const CLOCK_WARN_SEC = 5;
const DAY_MS = 24 * 3600_000;

const NGINX_UPGRADE_LINES = [
  'proxy_http_version 1.1;',
  'proxy_set_header Upgrade $http_upgrade;',
  'proxy_set_header Connection "upgrade";',
  'proxy_read_timeout 120s;',
];

/** `pnpm hookway check …`: a deployment, checked from the outside. */
export const checkCommand: CliCommand = {
  name: 'check',
  summary: `check a deployment from the outside: TLS, op 13, WebSockets, a test event (${HOOKWAY} check --help)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        appid: { type: 'string' },
        secret: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'allow-port': { type: 'boolean' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      'check',
      1,
    );
    if (values.help) {
      io.stdout(CHECK_HELP);
      return EXIT.ok;
    }
    const target = parseTarget(positionals[0]);
    if ((values.appid === undefined) !== (values.secret === undefined)) {
      throw new UsageError('give --appid and --secret together (the bot), and/or --key (a client key)', 'check');
    }
    if (values.appid === undefined && values.key === undefined) {
      throw new UsageError('give the bot (--appid <appid> --secret <AppSecret>) or a client key (--key <key>), or both', 'check');
    }
    if (values.appid !== undefined && !/^\d{1,20}$/.test(values.appid))
      throw new UsageError(`--appid ${values.appid} is not an appid (1–20 digits)`, 'check');
    const secret = values.secret === undefined ? undefined : AppSecret.parse(values.secret);
    if (values.secret !== undefined && !secret)
      throw new UsageError('--secret is not an AppSecret (6–128 of A-Z a-z 0-9 . _ ~ -)', 'check');
    const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)
      throw new UsageError('--timeout is milliseconds, 100–120000', 'check');
    let ca: string | undefined;
    if (values.ca !== undefined) {
      try {
        ca = readFileSync(values.ca, 'utf8');
      } catch (err) {
        throw new UsageError(`--ca ${values.ca} cannot be read: ${err instanceof Error ? err.message : String(err)}`, 'check');
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca ${values.ca} is not a PEM certificate`, 'check');
    }

    const say = sayIn(languageOf(io.env));
    const bot = values.appid !== undefined && secret ? { appid: values.appid, secret } : undefined;
    const lines = await runChecks(
      {
        ...target,
        bot,
        key: values.key,
        allowPort: values['allow-port'] === true,
        transport: { ca: withRoots(ca), verify: true, timeoutMs },
      },
      say,
    );
    const who = bot ? say(` (bot ${bot.appid})`, `（机器人 ${bot.appid}）`) : '';
    io.stdout(renderReport(`hookway check ${target.webhook.href}${who}`, lines, say));
    return lines.some((l) => l.mark === 'fail') ? EXIT.failed : EXIT.ok;
  },
};

interface Target {
  /** The callback URL: the one given, or `<base>/webhook`. */
  readonly webhook: URL;
  /** Where /readyz, /ws and /websocket are: the URL's origin and any path prefix before /webhook. */
  readonly base: URL;
}

function parseTarget(text: string | undefined): Target {
  if (text === undefined)
    throw new UsageError('give the public URL: the callback URL set on q.qq.com, e.g. https://bot.example.com/webhook', 'check');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${text} is not a URL (e.g. https://bot.example.com/webhook)`, 'check');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${url.protocol} is not http: or https:`, 'check');
  if (url.search !== '' || url.username !== '' || url.password !== '') {
    // A query may carry ?secret=: the check never sends a credential in a URL.
    throw new UsageError('give the URL without a query or user info (the callback URL is https://host/webhook)', 'check');
  }
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = path.endsWith('/webhook') ? path.slice(0, -'/webhook'.length) : path;
  const base = new URL(`${url.origin}${prefix}/`);
  return { webhook: new URL(`${url.origin}${prefix}/webhook`), base };
}

interface Plan extends Target {
  readonly bot: { appid: string; secret: AppSecret } | undefined;
  readonly key: string | undefined;
  readonly allowPort: boolean;
  readonly transport: Transport;
}

const portOf = (url: URL) => (url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
const at = (base: URL, path: string, ws = false) => {
  const url = new URL(path, base);
  if (ws) url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
};

/** Every check in order; a step that cannot run (no address, nothing listening) marks what depends on it as not checked. */
export async function runChecks(plan: Plan, say: Say): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const add = (line: CheckLine) => lines.push(line);
  const host = plan.webhook.hostname;
  const port = portOf(plan.webhook);
  const https = plan.webhook.protocol === 'https:';

  // The port rule: QQ saves only https callback URLs on 80, 443, 8080 or 8443.
  if (!https) {
    add({
      mark: 'fail',
      what: say('Port rule', '端口规则'),
      detail: say('the callback URL is http://; QQ calls only https:// URLs', '回调地址是 http://；QQ 只回调 https:// 地址'),
      fix: say(
        'terminate TLS in front of Hookway (nginx, 宝塔 SSL) and give q.qq.com https://<host>/webhook',
        '在 Hookway 前面配置 TLS（nginx、宝塔 SSL），在 q.qq.com 填写 https://<域名>/webhook',
      ),
    });
  } else if (QQ_PORTS.includes(port)) {
    add({
      mark: 'ok',
      what: say('Port rule', '端口规则'),
      detail: say(`https on port ${port}: QQ accepts it`, `https，端口 ${port}：QQ 接受`),
    });
  } else {
    add({
      mark: plan.allowPort ? 'warn' : 'fail',
      what: say('Port rule', '端口规则'),
      detail: say(
        `port ${port}: QQ accepts only 80, 443, 8080 and 8443${plan.allowPort ? ' (allowed by --allow-port)' : ''}`,
        `端口 ${port}：QQ 只接受 80、443、8080、8443${plan.allowPort ? '（--allow-port 允许）' : ''}`,
      ),
      fix: say(
        'listen on 443 (or 8443) in nginx and give q.qq.com that URL; --allow-port makes this a warning (port forwarding, tests)',
        '让 nginx 监听 443（或 8443）并在 q.qq.com 填写该地址；--allow-port 可把这一项降为警告（端口转发、测试）',
      ),
    });
  }

  // DNS: the platform must find the host.
  const resolved = await resolveHost(host);
  if (!resolved.ok) {
    add({
      mark: 'fail',
      what: 'DNS',
      detail: say(`${host} does not resolve (${resolved.code})`, `${host} 无法解析（${resolved.code}）`),
      fix: say(
        `add an A (or AAAA) record for ${host} pointing at this server's public IP, and wait for it to propagate`,
        `为 ${host} 添加指向服务器公网 IP 的 A（或 AAAA）记录，并等待生效`,
      ),
    });
    return skipRest(lines, plan, say, say('the host does not resolve', '域名无法解析'));
  }
  add({
    mark: 'ok',
    what: 'DNS',
    detail: resolved.literal ? say(`${host} is an IP address`, `${host} 是 IP 地址`) : `${host} → ${resolved.addresses.join(', ')}`,
  });

  // TLS: what the platform's HTTPS client would accept.
  let transport = plan.transport;
  if (https) {
    const tls = await inspectTls(host, port, transport);
    if (!tls.ok) {
      add(unreachable(say('TLS', 'TLS'), host, port, tls, say));
      return skipRest(lines, plan, say, say(`nothing answers on ${host}:${port}`, `${host}:${port} 无应答`));
    }
    const daysLeft = Math.floor((tls.validTo.getTime() - Date.now()) / DAY_MS);
    const expiry = tls.validTo.toISOString().slice(0, 10);
    if (tls.chainError || tls.hostError) {
      transport = { ...transport, verify: false };
      const expired = tls.chainError === 'CERT_HAS_EXPIRED';
      add({
        mark: 'fail',
        what: 'TLS',
        detail: expired
          ? say(`the certificate expired on ${expiry}`, `证书已于 ${expiry} 过期`)
          : tls.chainError
            ? say(`the certificate is not trusted (${tls.chainError})`, `证书不受信任（${tls.chainError}）`)
            : say(`the certificate does not name ${host}: ${tls.hostError ?? ''}`, `证书不包含 ${host}：${tls.hostError ?? ''}`),
        fix: expired
          ? say(
              'renew it (certbot renew, or 宝塔 → 网站 → SSL → 续签) and reload nginx',
              '续签证书（certbot renew，或 宝塔 → 网站 → SSL → 续签）并重载 nginx',
            )
          : tls.chainError
            ? say(
                `use a certificate from a public CA (Let's Encrypt via certbot or 宝塔's SSL panel) with its full chain (ssl_certificate fullchain.pem); for a private CA, pass --ca <file> to this check — QQ will still refuse it`,
                '使用公共 CA 签发的证书（certbot 或宝塔 SSL 申请 Let’s Encrypt），并配置完整证书链（ssl_certificate fullchain.pem）；私有 CA 可用 --ca <文件> 让本检查信任，但 QQ 仍会拒绝',
              )
            : say(
                `get a certificate for ${host} (its name must be in the certificate's subjectAltName)`,
                `申请包含 ${host} 的证书（域名须在证书的 subjectAltName 中）`,
              ),
      });
    } else if (daysLeft < EXPIRY_WARN_DAYS) {
      add({
        mark: 'warn',
        what: 'TLS',
        detail: say(
          `trusted, names ${host}, but expires on ${expiry} (in ${daysLeft} days)`,
          `受信任、包含 ${host}，但将于 ${expiry} 过期（剩 ${daysLeft} 天）`,
        ),
        fix: say(
          'renew it now (certbot renew, or 宝塔 SSL 续签) and check that automatic renewal runs',
          '现在续签（certbot renew 或宝塔 SSL 续签），并确认自动续签在运行',
        ),
      });
    } else {
      add({
        mark: 'ok',
        what: 'TLS',
        detail: say(
          `trusted, names ${host}, expires on ${expiry} (in ${daysLeft} days)`,
          `受信任、包含 ${host}，${expiry} 到期（剩 ${daysLeft} 天）`,
        ),
      });
    }
  }

  // op 13, as the platform sends it when the callback URL is saved; the clock from its answer's Date header.
  let clockFrom: { date: string; receivedAtMs: number } | undefined;
  if (plan.bot) {
    const line = await callbackValidation(plan, plan.bot, transport, say, (date, receivedAtMs) => (clockFrom = { date, receivedAtMs }));
    add(line);
  } else {
    add({ mark: 'skip', what: 'op 13', detail: say('needs --appid and --secret', '需要 --appid 和 --secret') });
  }

  // /readyz: the server says it can take events.
  const ready = await httpCall(at(plan.base, 'readyz'), { method: 'GET' }, transport);
  if (!ready.ok) add(unreachable('/readyz', host, port, ready, say));
  else {
    clockFrom ??= typeof ready.headers.date === 'string' ? { date: ready.headers.date, receivedAtMs: ready.receivedAtMs } : undefined;
    if (ready.status === 200) add({ mark: 'ok', what: '/readyz', detail: say('ready', '就绪') });
    else add(httpProblem('/readyz', ready.status, ready.body, say));
  }

  add(clockLine(clockFrom, say));

  // WebSocket upgrades through whatever is in front.
  add(await gatewayUpgrade(plan, transport, say));
  add(await rawUpgrade(plan, transport, say));

  // The client key (its own check socket), then the test event (another one, unauthenticated).
  // A certificate that failed means anyone may be answering: the key (a credential that can send messages) stays here.
  if (plan.key !== undefined && !transport.verify) {
    add({
      mark: 'skip',
      what: say('Client key', '客户端密钥'),
      detail: say('not sent: the server’s certificate failed the TLS check', '未发送：服务器证书未通过 TLS 检查'),
    });
  } else if (plan.key !== undefined) add(await keyCheck(plan, plan.key, transport, say));
  if (plan.bot) add(await testEvent(plan, plan.bot, transport, say));
  else add({ mark: 'skip', what: say('Test event', '测试事件'), detail: say('needs --appid and --secret', '需要 --appid 和 --secret') });
  return lines;
}

function skipRest(lines: CheckLine[], plan: Plan, say: Say, why: string): CheckLine[] {
  const rest = [
    'op 13',
    '/readyz',
    say('Clock', '时钟'),
    'WebSocket /websocket',
    'WebSocket /ws',
    ...(plan.key !== undefined ? [say('Client key', '客户端密钥')] : []),
    say('Test event', '测试事件'),
  ];
  for (const what of rest) lines.push({ mark: 'skip', what, detail: why });
  return lines;
}

/** A connection-level failure, explained. */
function unreachable(what: string, host: string, port: number, failed: Failure, say: Say): CheckLine {
  const refused = failed.code === 'ECONNREFUSED';
  const timedOut = failed.code === 'ETIMEDOUT';
  return {
    mark: 'fail',
    what,
    detail: refused
      ? say(`connection to ${host}:${port} refused: nothing listens there`, `连接 ${host}:${port} 被拒绝：该端口无程序监听`)
      : timedOut
        ? say(`${host}:${port} did not answer in time`, `${host}:${port} 未及时应答`)
        : say(
            `cannot reach ${host}:${port}: ${failed.code} ${failed.message}`,
            `无法连接 ${host}:${port}：${failed.code} ${failed.message}`,
          ),
    fix: refused
      ? say(
          'start nginx (systemctl start nginx) and check that it listens on this port; without a proxy, start Hookway (systemctl status hookway / pm2 status)',
          '启动 nginx（systemctl start nginx）并确认它监听此端口；没有反向代理时启动 Hookway（systemctl status hookway / pm2 status）',
        )
      : say(
          'open the port in the firewall and the cloud security group (宝塔: 安全 → 放行端口), and check the server is up',
          '在防火墙和云安全组中放行该端口（宝塔：安全 → 放行端口），并确认服务器在运行',
        ),
  };
}

/** A non-2xx HTTP answer, explained: the proxy cannot reach Hookway, or Hookway's own `{error, message}`. */
function httpProblem(what: string, status: number, body: string, say: Say): CheckLine {
  const problem = problemOf(body);
  // A plain 502/504 from any proxy, or the shipped nginx config's own JSON 503 (deploy/nginx/hookway.conf turns its
  // 502/504 into `upstream_unavailable`, so that the platform never sees an HTML page).
  const proxyCannotReach = ((status === 502 || status === 504) && problem.error === undefined) || problem.error === 'upstream_unavailable';
  if (proxyCannotReach) {
    const answered = problem.error === undefined ? `${status}` : `${status} ${problem.error}`;
    return {
      mark: 'fail',
      what,
      detail: say(`the proxy answered ${answered}: it cannot reach Hookway`, `反向代理返回 ${answered}：无法连接到 Hookway`),
      fix: say(
        'start Hookway (systemctl status hookway / pm2 status / 宝塔 Node 项目) and check that the proxy_pass address matches its HOST:PORT',
        '启动 Hookway（systemctl status hookway / pm2 status / 宝塔 Node 项目），并确认 proxy_pass 地址与其 HOST:PORT 一致',
      ),
    };
  }
  return {
    mark: 'fail',
    what,
    detail: `HTTP ${status}${problem.error ? ` ${problem.error}` : ''}`,
    fix:
      problem.message ??
      say(
        "this answer is not Hookway's: check that the proxy sends this path to Hookway (location / and /webhook)",
        '这不是 Hookway 的应答：检查反向代理是否把该路径转发给 Hookway（location / 与 /webhook）',
      ),
  };
}

async function callbackValidation(
  plan: Plan,
  bot: { appid: string; secret: AppSecret },
  transport: Transport,
  say: Say,
  onDate: (date: string, receivedAtMs: number) => void,
): Promise<CheckLine> {
  const plainToken = randomBytes(15).toString('base64url');
  const eventTs = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ d: { plain_token: plainToken, event_ts: eventTs }, op: 13 });
  // Signed like a delivery: the platform may sign op 13 too, and a server that requires it must not fail the check.
  const answer = await httpCall(
    plan.webhook,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'QQBot-Callback',
        'x-bot-appid': bot.appid,
        'x-signature-timestamp': eventTs,
        'x-signature-ed25519': signDispatch(bot.secret.reveal(), eventTs, Buffer.from(body)),
        'x-signature-method': 'Ed25519',
      },
      body,
    },
    transport,
  );
  if (!answer.ok) return unreachable('op 13', plan.webhook.hostname, portOf(plan.webhook), answer, say);
  if (typeof answer.headers.date === 'string') onDate(answer.headers.date, answer.receivedAtMs);
  if (answer.status !== 200) return httpProblem('op 13', answer.status, answer.body, say);
  let reply: { plain_token?: unknown; signature?: unknown } = {};
  try {
    reply = JSON.parse(answer.body) as typeof reply;
  } catch {
    // judged below
  }
  if (reply.plain_token !== plainToken || typeof reply.signature !== 'string' || !/^[0-9a-f]{128}$/.test(reply.signature)) {
    return {
      mark: 'fail',
      what: 'op 13',
      detail: say(
        'the answer is not {"plain_token","signature"} with our plain_token',
        '应答不是带有本次 plain_token 的 {"plain_token","signature"}',
      ),
      fix: say("the callback URL must reach Hookway's POST /webhook, nothing else in between", '回调地址必须直达 Hookway 的 POST /webhook'),
    };
  }
  // What QQ does: verify event_ts ‖ plain_token with the public key derived from the AppSecret.
  const good = verify(
    null,
    Buffer.from(eventTs + plainToken),
    keysForSecret(bot.secret.reveal()).publicKey,
    Buffer.from(reply.signature, 'hex'),
  );
  if (!good) {
    return {
      mark: 'fail',
      what: 'op 13',
      detail: say(
        `the signature does not verify with the AppSecret given for bot ${bot.appid}: QQ would refuse this callback URL`,
        `签名无法用为机器人 ${bot.appid} 提供的 AppSecret 验证：QQ 会拒绝这个回调地址`,
      ),
      fix: say(
        `the AppSecret does not match the one Hookway has for appid ${bot.appid}: copy it again from q.qq.com (开发 → 开发设置) into BOTS=${bot.appid}:<AppSecret> (or BOTS_FILE), restart Hookway, and run this check with the same one`,
        `AppSecret 与 Hookway 为 appid ${bot.appid} 配置的不一致：从 q.qq.com（开发 → 开发设置）重新复制到 BOTS=${bot.appid}:<AppSecret>（或 BOTS_FILE），重启 Hookway，并用同一个值运行本检查`,
      ),
    };
  }
  return {
    mark: 'ok',
    what: 'op 13',
    detail: say(
      'callback validation signed with the AppSecret, verified as QQ does',
      '回调地址验证的签名与 AppSecret 相符（按 QQ 的方式校验）',
    ),
  };
}

function clockLine(from: { date: string; receivedAtMs: number } | undefined, say: Say): CheckLine {
  const serverMs = from ? Date.parse(from.date) : Number.NaN;
  if (!from || Number.isNaN(serverMs)) {
    return { mark: 'skip', what: say('Clock', '时钟'), detail: say('no Date header in the answers', '应答中没有 Date 头') };
  }
  // Date has whole seconds: the server's clock is within [serverMs, serverMs + 1 s) when the answer left it.
  const skewSec = Math.round((serverMs + 500 - from.receivedAtMs) / 1000);
  if (Math.abs(skewSec) > CLOCK_WARN_SEC) {
    return {
      mark: 'warn',
      what: say('Clock', '时钟'),
      detail: say(`the server's clock is ${skewSec} s off this machine's`, `服务器时钟与本机相差 ${skewSec} 秒`),
      fix: say(
        'keep both clocks synchronised (timedatectl set-ntp true, or chrony): signatures carry timestamps, and SIGNATURE_MAX_SKEW_SEC refuses stale ones',
        '同步两边的时钟（timedatectl set-ntp true 或 chrony）：签名带有时间戳，SIGNATURE_MAX_SKEW_SEC 会拒绝过期的签名',
      ),
    };
  }
  return {
    mark: 'ok',
    what: say('Clock', '时钟'),
    detail: say(`within ${CLOCK_WARN_SEC} s of this machine's`, `与本机相差不超过 ${CLOCK_WARN_SEC} 秒`),
  };
}

/** A 426 from Hookway on a WebSocket path means the request reached it without its Upgrade header: the proxy dropped it. */
function upgradeDropped(what: string, path: string, say: Say): CheckLine {
  return {
    mark: 'fail',
    what,
    detail: say(
      'the proxy in front passes the request on without its Upgrade/Connection headers, so no WebSocket can connect',
      '前面的反向代理转发请求时丢掉了 Upgrade/Connection 头，WebSocket 无法连接',
    ),
    fix: [
      say(`add to the nginx location ${path} (then nginx -s reload):`, `在 nginx 的 location ${path} 中加入（然后 nginx -s reload）：`),
      ...NGINX_UPGRADE_LINES,
    ].join('\n'),
  };
}

async function gatewayUpgrade(plan: Plan, transport: Transport, say: Say): Promise<CheckLine> {
  const what = 'WebSocket /websocket';
  const answer = await upgrade(at(plan.base, 'websocket', true), {}, transport);
  if (!answer.ok) return unreachable(what, plan.base.hostname, portOf(plan.base), answer, say);
  if (answer.kind === 'refused') {
    const problem = problemOf(answer.body);
    if (answer.status === 426 && problem.error === 'upgrade_required') return upgradeDropped(what, '/websocket', say);
    if (answer.status === 404 && problem.error === 'not_found') {
      return { mark: 'skip', what, detail: say('gateway mode is off on this server', '此服务器未开启网关模式') };
    }
    return httpProblem(what, answer.status, answer.body, say);
  }
  const hello = await within(answer.firstFrame, transport.timeoutMs);
  answer.ws.terminate();
  return hello?.includes('"op":10')
    ? { mark: 'ok', what, detail: say('upgraded through the proxy; Hello (op 10) received', '经反向代理升级成功；收到 Hello（op 10）') }
    : {
        mark: 'fail',
        what,
        detail: say('upgraded, but no Hello (op 10) came', '升级成功，但没有收到 Hello（op 10）'),
        fix: say('check that /websocket reaches Hookway and nothing else', '确认 /websocket 直达 Hookway'),
      };
}

/** `/ws` without a credential: Hookway's WebSocket handler answers 400 missing_credentials; a proxy that drops the upgrade gets 426. */
async function rawUpgrade(plan: Plan, transport: Transport, say: Say): Promise<CheckLine> {
  const what = 'WebSocket /ws';
  const answer = await upgrade(at(plan.base, 'ws', true), {}, transport);
  if (!answer.ok) return unreachable(what, plan.base.hostname, portOf(plan.base), answer, say);
  if (answer.kind === 'open') {
    answer.ws.terminate();
    return { mark: 'ok', what, detail: say('upgraded through the proxy', '经反向代理升级成功') };
  }
  const problem = problemOf(answer.body);
  if (answer.status === 426 && problem.error === 'upgrade_required') return upgradeDropped(what, '/ws', say);
  if (answer.status === 400 && problem.error === 'missing_credentials') {
    return { mark: 'ok', what, detail: say('the upgrade reaches Hookway through the proxy', '升级请求经反向代理到达 Hookway') };
  }
  return httpProblem(what, answer.status, answer.body, say);
}

/** The check's own socket (`/ws/check/<nonce>`); packages/protocol/src/check.ts says why an ordinary client is never used. */
async function openCheckSocket(plan: Plan, nonce: string, headers: Record<string, string>, transport: Transport) {
  const answer = await upgrade(at(plan.base, `ws/check/${nonce}`, true), headers, transport);
  if (!answer.ok || answer.kind === 'refused') return answer;
  const first = await within(answer.firstFrame, transport.timeoutMs);
  let ready: CheckReadyFrame | undefined;
  try {
    const parsed = first === undefined ? undefined : (JSON.parse(first) as CheckReadyFrame);
    if (parsed?.hookway === 'check_ready' && parsed.nonce === nonce) ready = parsed;
  } catch {
    // judged by the caller
  }
  return { ok: true as const, kind: 'open' as const, ws: answer.ws, ready };
}

function checkSocketRefused(what: string, status: number, body: string, say: Say): CheckLine {
  if (status === 404) {
    return {
      mark: 'fail',
      what,
      detail: say(
        '/ws/check/… is not served: this Hookway predates `hookway check`',
        '/ws/check/… 不存在：这个 Hookway 版本早于 `hookway check`',
      ),
      fix: say(
        'upgrade Hookway, or send /ws/… (not just /ws exactly) to it in the proxy',
        '升级 Hookway，或在反向代理中把 /ws/…（不只是 /ws）转发给它',
      ),
    };
  }
  if (status === 426 && problemOf(body).error === 'upgrade_required') return upgradeDropped(what, '/ws', say);
  return httpProblem(what, status, body, say);
}

async function keyCheck(plan: Plan, key: string, transport: Transport, say: Say): Promise<CheckLine> {
  const what = say('Client key', '客户端密钥');
  const nonce = randomBytes(32).toString('base64url');
  const socket = await openCheckSocket(plan, nonce, { authorization: `Bearer ${key}` }, transport);
  if (!socket.ok) return unreachable(what, plan.base.hostname, portOf(plan.base), socket, say);
  if (socket.kind === 'refused') {
    const problem = problemOf(socket.body);
    if (socket.status === 401) {
      return {
        mark: 'fail',
        what,
        detail: say(
          `refused (${problem.error ?? 401}): ${problem.message ?? ''}`,
          `被拒绝（${problem.error ?? 401}）：${problem.message ?? ''}`,
        ),
        fix: say(
          `ask for a new key: ${HOOKWAY} keys add --bot <appid> --name <name> on the server (keys list shows the names)`,
          `在服务器上重新创建密钥：${HOOKWAY} keys add --bot <appid> --name <名称>（keys list 查看已有密钥）`,
        ),
      };
    }
    return checkSocketRefused(what, socket.status, socket.body, say);
  }
  socket.ws.terminate();
  const granted = socket.ready?.key;
  if (!granted) {
    return {
      mark: 'fail',
      what,
      detail: say('the server did not say which bot the key is for', '服务器没有说明密钥属于哪个机器人'),
      fix: say('upgrade Hookway', '升级 Hookway'),
    };
  }
  const events = granted.events ? granted.events.join(',') : say('all', '全部');
  return {
    mark: 'ok',
    what,
    detail: say(
      `accepted: key "${granted.name}" for bot ${granted.appid} (${granted.bot}), events: ${events}`,
      `已接受：密钥 "${granted.name}"，机器人 ${granted.appid}（${granted.bot}），事件：${events}`,
    ),
  };
}

/**
 * A signed test event that only this check's socket receives: the socket holds a fresh nonce, the event is the check
 * envelope carrying it (packages/protocol/src/check.ts), so no client of the bot and no history ever sees it.
 */
async function testEvent(plan: Plan, bot: { appid: string; secret: AppSecret }, transport: Transport, say: Say): Promise<CheckLine> {
  const what = say('Test event', '测试事件');
  const nonce = randomBytes(32).toString('base64url');
  const socket = await openCheckSocket(plan, nonce, {}, transport);
  if (!socket.ok) return unreachable(what, plan.base.hostname, portOf(plan.base), socket, say);
  if (socket.kind === 'refused') return checkSocketRefused(what, socket.status, socket.body, say);
  const { ws } = socket;
  try {
    if (!socket.ready) {
      return {
        mark: 'fail',
        what,
        detail: say('the check socket never said it was ready', '检查用的连接没有就绪'),
        fix: say('upgrade Hookway', '升级 Hookway'),
      };
    }
    const body = checkEventBody(nonce, Date.now());
    const timestamp = String(Math.floor(Date.now() / 1000));
    const arrived = nextFrame(ws, transport.timeoutMs);
    const answer = await httpCall(
      plan.webhook,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'hookway-check',
          'x-bot-appid': bot.appid,
          'x-signature-timestamp': timestamp,
          'x-signature-ed25519': signDispatch(bot.secret.reveal(), timestamp, Buffer.from(body)),
          'x-signature-method': 'Ed25519',
        },
        body,
      },
      transport,
    );
    if (!answer.ok) return unreachable(what, plan.webhook.hostname, portOf(plan.webhook), answer, say);
    if (answer.status !== 200) {
      const problem = problemOf(answer.body);
      if (problem.error === 'unsupported_op') {
        return {
          mark: 'fail',
          what,
          detail: say('this Hookway does not know check events (op -1)', '这个 Hookway 不认识检查事件（op -1）'),
          fix: say('upgrade Hookway', '升级 Hookway'),
        };
      }
      if (problem.error === 'bad_signature') {
        return {
          mark: 'fail',
          what,
          detail: say(
            "refused: the signature does not verify with Hookway's AppSecret for this bot",
            '被拒绝：签名与 Hookway 为该机器人配置的 AppSecret 不符',
          ),
          fix: say('the AppSecret does not match: see op 13 above', 'AppSecret 不一致：见上面的 op 13'),
        };
      }
      if (problem.error === 'check_undelivered') {
        return {
          mark: 'fail',
          what,
          detail: say('the webhook was verified, but no gateway holds the check socket', 'Webhook 已验证，但没有网关持有检查连接'),
          fix: say(
            'in split mode every ingress and gateway must use the same REDIS_URL; behind a load balancer, /webhook and /ws must reach the same Hookway deployment',
            '拆分部署时所有 ingress 和 gateway 必须使用同一个 REDIS_URL；负载均衡后面的 /webhook 与 /ws 必须指向同一套 Hookway',
          ),
        };
      }
      return httpProblem(what, answer.status, answer.body, say);
    }
    const frame = await arrived;
    if (frame !== body) {
      return {
        mark: 'fail',
        what,
        detail: say('accepted, but it never reached the check socket', 'Webhook 已接受，但事件没有到达检查连接'),
        fix: say(
          'the ingress and the gateway do not share a bus: check that both use the same REDIS_URL and that Redis is reachable from both',
          'ingress 与 gateway 没有共用总线：确认两者使用同一个 REDIS_URL，且都能连上 Redis',
        ),
      };
    }
    return {
      mark: 'ok',
      what,
      detail: say(
        "a signed check event went through /webhook and reached this check's own socket (no client of the bot receives it)",
        '签名的检查事件经 /webhook 到达了本检查自己的连接（机器人的客户端不会收到）',
      ),
    };
  } finally {
    ws.terminate();
  }
}
