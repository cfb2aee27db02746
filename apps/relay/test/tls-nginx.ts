import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '@hookway/testkit';
import { nginxBinary } from './nginx.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl now (the check's --ca trusts it). */
export function selfSignedCertificate(days = 30): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hookway-cert-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, cert, key };
}

export interface TlsNginx {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Debian's nginx with the shipped deploy/nginx/hookway.conf, terminating TLS with the given certificate in front of
 * one Hookway (both upstreams) or a split ingress and gateway. `withoutUpgrade` removes the Upgrade/Connection lines from the WebSocket locations:
 * the proxy a user gets by copying a plain HTTP location.
 */
export async function startTlsNginx(
  port: number,
  /** One Hookway (both roles), or the split roles' ports. */
  hookway: number | { ingress: number; gateway: number },
  certificate: { cert: string; key: string },
  options: { withoutUpgrade?: boolean } = {},
): Promise<TlsNginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'hookway-tls-nginx-'));
  let site = readFileSync(join(ROOT, 'deploy/nginx/hookway.conf'), 'utf8')
    .replace(
      /listen 8080;/,
      `listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${certificate.cert};\n    ssl_certificate_key ${certificate.key};`,
    )
    .replace(/access_log \/var\/log\/nginx\/hookway\.access\.log/, `access_log ${dir}/access.log`);
  if (options.withoutUpgrade) {
    site = site.replace(/^\s*proxy_set_header (Upgrade|Connection \$hookway_connection)[^\n]*\n/gm, '');
    if (site.includes('$http_upgrade;')) throw new Error('upgrade lines still present');
  }
  const ports = typeof hookway === 'number' ? { ingress: hookway, gateway: hookway } : hookway;
  const upstreams = (['ingress', 'gateway'] as const)
    .map((role) => `upstream hookway_${role} {\n    server 127.0.0.1:${ports[role]} max_fails=1 fail_timeout=5s;\n}`)
    .join('\n');
  writeFileSync(join(dir, 'upstreams.conf'), upstreams);
  writeFileSync(join(dir, 'hookway.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'events { worker_connections 256; }',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      `  include ${dir}/upstreams.conf;`,
      `  include ${dir}/hookway.conf;`,
      '}',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
      return new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    },
    () => `nginx listening on ${port} (${stderr})`,
  );
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
