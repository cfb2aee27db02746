/**
 * What each Redis node did during a measured window, read from its own counters (INFO and, on a Cluster, CLUSTER
 * INFO) before and after: CPU seconds, commands, the pub/sub commands (counted also when a Lua script calls them),
 * bytes sent to clients, and the cluster-bus publish messages — a classic PUBLISH on a Cluster is forwarded over the
 * bus to every node, a sharded SPUBLISH only to the replicas of the shard that owns the channel.
 */
import { Redis } from 'ioredis';

export interface NodeCounters {
  port: number;
  role: string;
  cpuSec: number;
  commands: number;
  scripts: number;
  publish: number;
  spublish: number;
  netOutputBytes: number;
  /** Cluster bus: PUBLISH messages this node received from other nodes (0 off a Cluster). */
  busPublishReceived: number;
  /** Cluster bus: SPUBLISH messages this node received from its shard's master (0 off a Cluster). */
  busPublishShardReceived: number;
}

const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
const num = (text: string, name: string) => Number(field(text, name) ?? 0);
const calls = (text: string, command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(text)?.[1] ?? 0);

/** One node's counters now. */
export async function readCounters(port: number): Promise<NodeCounters> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('everything');
    const cluster = num(info, 'cluster_enabled') === 1 ? String(await client.call('CLUSTER', 'INFO')) : '';
    return {
      port,
      role: field(info, 'role') ?? '?',
      cpuSec: num(info, 'used_cpu_sys') + num(info, 'used_cpu_user'),
      commands: num(info, 'total_commands_processed'),
      scripts: calls(info, 'evalsha') + calls(info, 'eval') + calls(info, 'fcall'),
      publish: calls(info, 'publish'),
      spublish: calls(info, 'spublish'),
      netOutputBytes: num(info, 'total_net_output_bytes'),
      busPublishReceived: num(cluster, 'cluster_stats_messages_publish_received'),
      busPublishShardReceived: num(cluster, 'cluster_stats_messages_publishshard_received'),
    };
  } finally {
    client.disconnect();
  }
}

/** The process id a node reports (INFO server), to pin a server another module spawned. */
export async function serverPid(port: number): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return num(await client.info('server'), 'process_id');
  } finally {
    client.disconnect();
  }
}

export const readAll = (ports: readonly number[]) => Promise.all(ports.map(readCounters));

/** after − before, node by node (the role is the one after). */
export function delta(before: readonly NodeCounters[], after: readonly NodeCounters[]): NodeCounters[] {
  return after.map((a, i) => {
    const b = before[i]!;
    return {
      port: a.port,
      role: a.role,
      cpuSec: Number((a.cpuSec - b.cpuSec).toFixed(3)),
      commands: a.commands - b.commands,
      scripts: a.scripts - b.scripts,
      publish: a.publish - b.publish,
      spublish: a.spublish - b.spublish,
      netOutputBytes: a.netOutputBytes - b.netOutputBytes,
      busPublishReceived: a.busPublishReceived - b.busPublishReceived,
      busPublishShardReceived: a.busPublishShardReceived - b.busPublishShardReceived,
    };
  });
}
