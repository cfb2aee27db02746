/**
 * Sums a `.cpuprofile` (node --cpu-prof) by self time into the categories issue 11 talks about, per event:
 *
 *   node --import tsx bench/profile-categories.ts <file.cpuprofile> <events> [top] [lastMs]
 *
 * A frame is put in the first category whose test matches its function name or script; `top` (default 25) also
 * lists the heaviest frames by self time. `lastMs` counts only the samples of the profile's last so many
 * milliseconds (the load run, without start-up's module compilation).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const [file, eventsArg, topArg, lastMsArg] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const events = Number(eventsArg);
const selfUs = new Map<number, number>();
const totalUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
const fromUs = lastMsArg === undefined ? 0 : totalUs - Number(lastMsArg) * 1000;
let atUs = 0;
profile.samples.forEach((id, i) => {
  atUs += profile.timeDeltas[i] ?? 0;
  if (atUs >= fromUs) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const CATEGORIES: [string, (fn: string, url: string) => boolean][] = [
  ['idle', (fn) => fn === '(idle)' || fn === '(program)'],
  ['gc', (fn) => fn === '(garbage collector)'],
  ['ed25519 verify', (fn, url) => (fn === 'verify' || fn === 'verifyOneShot') && url.includes('crypto')],
  ['sha256 (tags)', (fn, url) => (fn === 'digest' || fn === 'update' || fn === 'createHash' || fn === 'Hash') && url.includes('crypto')],
  ['socket writes', (fn) => /^(writev|writeBuffer|writeUtf8String|writeLatin1String|_writeGeneric|_writev)$/.test(fn)],
  ['ws frames', (_fn, url) => url.includes('/ws/lib/')],
  ['http parser/server', (_fn, url) => url.includes('node:_http') || url.includes('node:http')],
  ['zod validation', (_fn, url) => url.includes('/zod/')],
  ['JSON.parse', (fn) => fn === 'parse' || fn === 'JSONParse'],
  ['prom-client metrics', (_fn, url) => url.includes('prom-client')],
  ['pino logging', (_fn, url) => url.includes('pino')],
  ['express', (_fn, url) => url.includes('/express/') || url.includes('/router/')],
  ['event log (bus)', (_fn, url) => url.includes('packages/bus/')],
  ['gateway', (_fn, url) => url.includes('apps/gateway/')],
  ['ingress', (_fn, url) => url.includes('apps/ingress/')],
  ['other hookway', (_fn, url) => url.includes('/packages/') || url.includes('/apps/')],
  ['node internals', (_fn, url) => url.startsWith('node:')],
  ['native/other', () => true],
];
const sums = new Map<string, number>();
const frames = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName: fn, url, lineNumber } = node.callFrame;
  const category = CATEGORIES.find(([, test]) => test(fn, url))![0];
  sums.set(category, (sums.get(category) ?? 0) + us);
  const key = `${fn || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*wt-[a-z]+\//, '')}:${lineNumber + 1}`;
  frames.set(key, (frames.get(key) ?? 0) + us);
}
const busy = [...sums].filter(([c]) => c !== 'idle').reduce((a, [, us]) => a + us, 0);
const rows = [...sums].sort((a, b) => b[1] - a[1]);
process.stdout.write(`main thread, µs per event over ${events} events (busy ${(busy / events).toFixed(1)}):\n`);
process.stdout.write(`  ${'ratio to verify'.padEnd(22)} ${(busy / (sums.get('ed25519 verify') ?? NaN)).toFixed(2).padStart(7)}\n`);
for (const [category, us] of rows) process.stdout.write(`  ${category.padEnd(22)} ${(us / events).toFixed(1).padStart(7)}\n`);
process.stdout.write(`heaviest frames (self µs per event):\n`);
for (const [frame, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25)))
  process.stdout.write(`  ${(us / events).toFixed(2).padStart(7)}  ${frame}\n`);
