import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

export interface RunningNginx {
  readonly port: number;
  /** Both of nginx's logs as they are now (the access log as the shipped config writes it). */
  logs(): { access: string; error: string };
  stop(): Promise<void>;
}

/**
 * Runs Debian's nginx with deploy/nginx/hookway.conf exactly as committed, except for the listen port and the
 * upstream addresses, which point at the test's replicas.
 */
export async function startNginx(port: number, upstreams: { ingress: number[]; gateway: number[] }): Promise<RunningNginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'hookway-nginx-'));
  const site = readFileSync(join(ROOT, 'deploy/nginx/hookway.conf'), 'utf8')
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
    .replace(/access_log \/var\/log\/nginx\/hookway\.access\.log/, `access_log ${dir}/access.log`);
  const committed = readFileSync(join(ROOT, 'deploy/nginx/upstreams.conf'), 'utf8');
  let upstreamConf = committed;
  for (const [role, ports] of Object.entries(upstreams)) {
    const block = new RegExp(`(upstream hookway_${role} \\{)([\\s\\S]*?)(\\n\\s*(keepalive[^\\n]*\\n)?\\})`);
    upstreamConf = upstreamConf.replace(block, (_m, open: string, servers: string, close: string) => {
      // The committed server lines' parameters (max_fails…) are what is under test: only the addresses change.
      const params = /\n\s*server\s+\S+((?:\s+[^;\s]+)*);/.exec(servers)?.[1];
      if (params === undefined) throw new Error(`no server line in upstream hookway_${role}`);
      return `${open}\n${ports.map((p) => `    server 127.0.0.1:${p}${params};`).join('\n')}${close}`;
    });
  }
  writeFileSync(join(dir, 'upstreams.conf'), upstreamConf);
  writeFileSync(join(dir, 'hookway.conf'), site);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      // Two connections per proxied WebSocket (client and upstream): room for the restart test's 200 clients and more.
      'events { worker_connections 4096; }',
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
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}${safeRead(join(dir, 'error.log'))}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      // nginx itself, not another test's process that holds the port nginx could not bind (it then exits, above).
      (r) => r.headers.get('server')?.startsWith('nginx') === true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not come up: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    logs: () => ({ access: safeRead(join(dir, 'access.log')), error: safeRead(join(dir, 'error.log')) }),
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

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
