/**
 * The stalled-bodies attack of issue 8 §5 against a real relay process, with figures: RSS before, at the peak and
 * after the attackers left, and how long a signed webhook from another address took meanwhile.
 *
 *   node --import tsx bench/stalled-bodies.ts                              # this checkout
 *   HOOKWAY_ROOT=/path/to/other/checkout node --import tsx bench/stalled-bodies.ts   # e.g. before the fix
 *
 * The attack, the sender and the measuring come from this checkout's testkit; only the relay runs from HOOKWAY_ROOT.
 * apps/relay/test/stalled-bodies.test.ts asserts the same figures (RSS growth < 64 MiB, accepted within 1 s).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { groupAtMessage, rssBytes, stalledBodiesAttack, WebhookSender } from '@hookway/testkit';

const ROOT = process.env.HOOKWAY_ROOT ?? fileURLToPath(new URL('..', import.meta.url));
const SECRET = 'DG5g3B4j9X2KOErG';
const MiB = 1024 * 1024;

const relay = spawn(process.execPath, ['--import', 'tsx', 'apps/relay/src/main.ts'], {
  cwd: ROOT,
  env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', BOTS: `102000001:${SECRET}` },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
const port = await new Promise<number>((resolve, reject) => {
  relay.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const match = /"port":(\d+),[^\n]*listening/.exec(out);
    if (match) resolve(Number(match[1]));
  });
  relay.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${out}`)));
});
// Drain its log so a full pipe never blocks it.
relay.stdout.resume();

const sender = new WebhookSender(`http://127.0.0.1:${port}`, SECRET);
for (let i = 0; i < 5; i++) await sender.dispatch(groupAtMessage());
const attack = await stalledBodiesAttack({ port, pid: relay.pid!, secret: SECRET });
const f = attack.figures;
// A relay may still be reading what the kernel buffered when the attacker has written it all: keep sampling while the
// attackers leave and for two seconds after, so the peak is the real one (and the RSS after they left is seen).
let rssPeakBytes = f.rssPeakBytes;
const sampler = setInterval(() => (rssPeakBytes = Math.max(rssPeakBytes, rssBytes(relay.pid!))), 20);
await attack.leave();
await new Promise((resolve) => setTimeout(resolve, 2000));
clearInterval(sampler);
const rssAfterBytes = rssBytes(relay.pid!);
rssPeakBytes = Math.max(rssPeakBytes, rssAfterBytes);
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
console.log(
  JSON.stringify(
    {
      root: ROOT,
      connections: f.connections,
      rssBeforeMiB: mib(f.rssBeforeBytes),
      rssPeakMiB: mib(rssPeakBytes),
      rssGrowthMiB: mib(rssPeakBytes - f.rssBeforeBytes),
      rssAfterLeavingMiB: mib(rssAfterBytes),
      signedWebhookWhileSettingUp: f.duringSetup,
      signedWebhookWhileStalled: f.duringStall,
    },
    null,
    2,
  ),
);
relay.kill('SIGTERM');
