/**
 * Which Redis a process talks to, and in which form: one server (REDIS_URL), a master found through Sentinel
 * (REDIS_SENTINELS + REDIS_SENTINEL_MASTER) or a Redis Cluster (REDIS_CLUSTER_NODES).
 */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly mode: 'single'; readonly url: string }
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly masterName: string;
      /** The master's and replicas' password (REDIS_PASSWORD); empty: none. */
      readonly password: string;
      /** The sentinels' own password (REDIS_SENTINEL_PASSWORD); empty: none. */
      readonly sentinelPassword: string;
    }
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly password: string };

/** The Redis settings as the runtime config names them. */
export interface RedisTargetSettings {
  readonly redisUrl: string;
  readonly redisSentinels: readonly HostPort[];
  readonly redisSentinelMaster: string;
  readonly redisSentinelPassword: string;
  readonly redisPassword: string;
  readonly redisClusterNodes: readonly HostPort[];
}

/** The target the settings choose, or undefined for no Redis (in-process memory). The config checked that at most one mode is set. */
export function redisTarget(settings: RedisTargetSettings): RedisTarget | undefined {
  if (settings.redisSentinels.length > 0) {
    return {
      mode: 'sentinel',
      sentinels: settings.redisSentinels,
      masterName: settings.redisSentinelMaster,
      password: settings.redisPassword,
      sentinelPassword: settings.redisSentinelPassword,
    };
  }
  if (settings.redisClusterNodes.length > 0)
    return { mode: 'cluster', nodes: settings.redisClusterNodes, password: settings.redisPassword };
  if (settings.redisUrl !== '') return { mode: 'single', url: settings.redisUrl };
  return undefined;
}

/** Whether the settings name any Redis (use this, not `redisUrl !== ''`: Sentinel and Cluster leave REDIS_URL empty). */
export const usesRedis = (settings: RedisTargetSettings): boolean => redisTarget(settings) !== undefined;

/** Where the target is, for messages and logs: never a password. */
export function describeTarget(target: RedisTarget): string {
  const list = (nodes: readonly HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (target.mode) {
    case 'single': {
      try {
        const url = new URL(target.url);
        return `Redis at ${url.hostname}:${url.port || '6379'}`;
      } catch {
        return 'Redis (REDIS_URL)';
      }
    }
    case 'sentinel':
      return `Redis master "${target.masterName}" via Sentinel ${list(target.sentinels)}`;
    case 'cluster':
      return `Redis Cluster ${list(target.nodes)}`;
  }
}
