import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { groupAtMessage } from './events.ts';
import { WebhookSender } from './webhook-sender.ts';

const MiB = 1024 * 1024;
const ATTACKER = fileURLToPath(new URL('./stalled-bodies-attacker.mjs', import.meta.url));

/** A process's resident set size, from /proc/<pid>/status (Linux). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

export interface StalledBodiesOptions {
  /** The Hookway under attack: its port and its process id (for RSS). */
  readonly port: number;
  readonly pid: number;
  /** A bot the legitimate sender signs for (`/webhook?secret=`, the form every version accepts). */
  readonly secret: string;
  readonly connections?: number;
  /** Content-Length each attacker declares; it sends one byte less and stalls. */
  readonly bodyBytes?: number;
  /** The attacker's address and the legitimate sender's (another loopback address is another client). */
  readonly attackerAddress?: string;
  readonly senderAddress?: string;
}

export interface StalledBodiesFigures {
  readonly connections: number;
  /** RSS before the attack and its peak while it was set up and held (bytes). */
  readonly rssBeforeBytes: number;
  readonly rssPeakBytes: number;
  /** Signed webhooks from the sender's address: one while the attack was being set up, one once it stalled. */
  readonly duringSetup: { status: number; ms: number };
  readonly duringStall: { status: number; ms: number };
}

export interface StalledBodiesAttack {
  readonly figures: StalledBodiesFigures;
  /** Resolves once the server has closed every attack connection itself, with the status line each got ('' for none). */
  closedByServer(): Promise<string[]>;
  /** Closes every attack connection from the attacker's side and ends the attacker process. */
  leave(): Promise<void>;
}

type AttackerMessage = { type: 'started' } | { type: 'written' } | { type: 'closed'; lines: string[] };

function next<T extends AttackerMessage['type']>(child: ChildProcess, type: T): Promise<Extract<AttackerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: AttackerMessage) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<AttackerMessage, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`the attacker exited (${code}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * The stalled-bodies attack of issue 8 §5, from a process of its own: `connections` connections each POST
 * `/webhook?secret=<anything>` declaring `bodyBytes`, send all but the last byte and stall. Measures the target's
 * RSS while the attack is set up and held, and how a signed webhook from another address fares meanwhile.
 */
export async function stalledBodiesAttack(options: StalledBodiesOptions): Promise<StalledBodiesAttack> {
  const sender = new WebhookSender(`http://127.0.0.1:${options.port}`, options.secret).from(options.senderAddress ?? '127.0.0.2');
  const signed = async () => {
    const startedMs = performance.now();
    const res = await sender.dispatch(groupAtMessage());
    return { status: res.status, ms: Math.round(performance.now() - startedMs) };
  };

  const rssBeforeBytes = rssBytes(options.pid);
  let rssPeakBytes = rssBeforeBytes;
  const sample = () => (rssPeakBytes = Math.max(rssPeakBytes, rssBytes(options.pid)));
  const sampler = setInterval(sample, 20);

  const attacker = fork(ATTACKER, [], {
    env: {
      ...process.env,
      PORT: String(options.port),
      CONNECTIONS: String(options.connections ?? 300),
      BODY_BYTES: String(options.bodyBytes ?? MiB),
      LOCAL_ADDRESS: options.attackerAddress ?? '127.0.0.1',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(attacker, 'exit');
  try {
    await next(attacker, 'started');
    const written = next(attacker, 'written');
    const duringSetup = await signed();
    await written;
    const duringStall = await signed();
    sample();
    return {
      figures: { connections: options.connections ?? 300, rssBeforeBytes, rssPeakBytes, duringSetup, duringStall },
      closedByServer: async () => {
        const closed = next(attacker, 'closed');
        attacker.send('await-close');
        return (await closed).lines;
      },
      leave: async () => {
        attacker.send('leave');
        await exited;
      },
    };
  } catch (err) {
    attacker.kill();
    throw err;
  } finally {
    clearInterval(sampler);
  }
}
