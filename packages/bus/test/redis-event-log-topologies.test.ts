import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { AppSecret } from '@hookway/protocol';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys, ReplicaShortfallError, type RedisConnectionOptions, type RedisTarget } from '@hookway/redis';
import { freePort, readyConnections, redisTopologies, startRedisServer, until } from '@hookway/testkit';
import { RedisEventLog, type HistoryLimits } from '../src/index.ts';
import { eventLogContract } from './event-log.contract.ts';

/** The same contract as on one server, against a real Sentinel set-up and a real Cluster (sharded pub/sub). */
const topologies = redisTopologies(beforeAll, afterAll);

const LIMITS: HistoryLimits = { historyMaxEvents: 1000, historyMaxAgeMs: 60_000, historyMaxBytes: 1 << 20, dedupWindowMs: 60_000 };

const connectionTo = readyConnections(
  (target: RedisTarget, options: Partial<RedisConnectionOptions> = {}) => new RedisConnection({ ...options, target }),
  afterAll,
  10_000,
);
/** Connections that must not wait for readiness (the bad-settings cases), closed after all tests too. */
const connections: RedisConnection[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
});

async function logOn(target: RedisTarget, limits: HistoryLimits, options: Partial<RedisConnectionOptions> = {}) {
  return new RedisEventLog({ connection: await connectionTo(target, options), ...limits });
}

eventLogContract('RedisEventLog on Sentinel', (limits) => logOn(topologies.sentinel(), limits));
eventLogContract('RedisEventLog on Cluster', (limits) => logOn(topologies.cluster(), limits));

const body = (text: string) => Buffer.from(text, 'utf8');
let counter = 0;
const freshBot = () => AppSecret.of(`topoBot${process.pid}x${Date.now().toString(36)}x${++counter}`);

describe('Cluster: sharded pub/sub', () => {
  it('delivers each bot’s events on its own channel, with bots on every shard (ioredis #1759), via SSUBSCRIBE on the owner only', async () => {
    const publisher = await logOn(topologies.cluster(), LIMITS);
    const follower = await logOn(topologies.cluster(), LIMITS);
    const bots = Array.from({ length: 24 }, freshBot);
    const owners = new Set(await Promise.all(bots.map((b) => topologies.clusterSetup.masterFor(redisKeys.meta(b)))));
    expect(owners.size).toBe(3);
    const got = new Map<string, string[]>(bots.map((b) => [b.reveal(), []]));
    for (const bot of bots) await follower.subscribe(bot, (e) => got.get(bot.reveal())!.push(e.body.toString()));
    for (const [i, bot] of bots.entries()) {
      await publisher.publish(bot, { eventId: 'one', body: body(`${i}:1`) });
      await publisher.publish(bot, { eventId: 'two', body: body(`${i}:2`) });
    }
    await until(() => [...got.values()].every((v) => v.length >= 2), 'two events on each of 24 bot channels');
    expect(bots.map((b) => got.get(b.reveal())?.join())).toEqual(bots.map((_b, i) => `${i}:1,${i}:2`));

    // Sharded: the owning master counts the subscription in SHARDNUMSUB, and nobody subscribed classically.
    const bot = bots[0]!;
    const owner = new Redis({ port: await topologies.clusterSetup.masterFor(redisKeys.meta(bot)), host: '127.0.0.1' });
    try {
      expect(await owner.call('PUBSUB', 'SHARDNUMSUB', redisKeys.shardChannel(bot))).toEqual([redisKeys.shardChannel(bot), 1]);
      expect(await owner.call('PUBSUB', 'NUMSUB', redisKeys.channel(bot))).toEqual([redisKeys.channel(bot), 0]);
    } finally {
      owner.disconnect();
    }
  });
});

describe('REDIS_MIN_REPLICAS_ACKED (WAIT after the publish script)', () => {
  /**
   * The acknowledgement rule, on real servers: the Sentinel master has 2 replicas, each Cluster master 1. A
   * publish that fewer replicas confirmed fails (the webhook answers 503), though the event is stored; the
   * platform's retry is then a duplicate, acknowledged only when its own WAIT confirms.
   */
  it.each([
    ['Sentinel', 0, ['accepted', 'duplicate'], ['evt']],
    ['Sentinel', 2, ['accepted', 'duplicate'], ['evt']],
    // Fewer online replicas than wanted: refused before anything is written or published (an old master restarted
    // empty mid-failover must not start a numbering of its own and publish events the real master accepts later).
    ['Sentinel', 3, ['503', '503'], []],
    ['Cluster', 1, ['accepted', 'duplicate'], ['evt']],
    ['Cluster', 2, ['503', '503'], []],
  ] as const)('%s with %i replicas wanted: first attempt, retry → %j, stored %j', async (mode, wanted, outcomes, stored) => {
    const target = mode === 'Sentinel' ? topologies.sentinel() : topologies.cluster();
    const log = await logOn(target, LIMITS, { minReplicasAcked: wanted, waitTimeoutMs: 200 });
    const bot = freshBot();
    const attempt = () =>
      log.publish(bot, { eventId: 'evt', body: body('{"a":1}') }).then(
        (r) => r.status,
        (err: unknown) => (err instanceof ReplicaShortfallError ? '503' : `error ${String(err)}`),
      );
    expect([await attempt(), await attempt()]).toEqual(outcomes);
    // Nothing is acknowledged that is not stored; a master lacking the replicas stores nothing at all.
    const reader = await logOn(target, LIMITS);
    expect((await reader.history(bot)).events.map((e) => e.eventId)).toEqual(stored);
  });

  it('announces an event only once the replicas confirmed it: a client never sees an event a failover can take back', async () => {
    const log = await logOn(topologies.sentinel(), LIMITS, { minReplicasAcked: 2, waitTimeoutMs: 200 });
    const follower = await logOn(topologies.sentinel(), LIMITS);
    const markers = await logOn(topologies.sentinel(), LIMITS);
    const [bot, markerBot] = [freshBot(), freshBot()];
    const got: string[] = [];
    await follower.subscribe(bot, (e) => got.push(`${e.seq}:${e.body.toString()}`));
    const markerSeen: number[] = [];
    await follower.subscribe(markerBot, (e) => markerSeen.push(e.seq));
    const master = await topologies.sentinelSetup.masterPort();
    const replica = topologies.sentinelSetup.servers.find((s) => s.port !== master)!;
    const attempt = () =>
      log.publish(bot, { eventId: 'evt', body: body('{"a":1}') }).then(
        (r) => r.status,
        (err: unknown) => (err instanceof ReplicaShortfallError ? '503' : `error ${String(err)}`),
      );
    replica.freeze();
    try {
      expect(await attempt()).toBe('503');
    } finally {
      replica.thaw();
    }
    // One master, one subscriber connection: pub/sub keeps order, so once a later message on another channel has
    // arrived, an announcement of the refused event would have arrived before it.
    await markers.publish(markerBot, { body: body('marker') });
    await until(() => markerSeen.length === 1, 'the marker event');
    expect(got).toEqual([]);
    // The platform's retry: a duplicate, acknowledged once replicated, and the stored event announced then.
    await until(async () => (await attempt()) === 'duplicate', 'the retry to be acknowledged');
    await until(() => got.length > 0, 'the announcement after the retry');
    expect(got[0]).toBe('1:{"a":1}');
  });

  /**
   * On Sentinel a master without enough online replicas answers no reads either: during a failover it may be the
   * old master restarted empty, whose "no such bot" would send resuming clients back to the start of the history.
   * A Cluster's restarted master refuses queries by itself (CLUSTERDOWN) until it knows who owns its slots now.
   */
  it.each([
    ['Sentinel', 3, 'refused'],
    ['Sentinel', 2, 'answered'],
    ['Cluster', 2, 'answered'],
    // A connection left on a node the sentinels turned into a replica: READONLY, which makes ioredis ask the
    // sentinels again (RedisConnection.followSentinels), where NOREPLICAS would refuse for good.
    ['a Sentinel replica', 1, 'readonly'],
  ] as const)('reads on %s with %i replicas wanted are %s', async (mode, wanted, outcome) => {
    const replicaPort = async () => {
      const master = await topologies.sentinelSetup.masterPort();
      return topologies.sentinelSetup.servers.find((s) => s.port !== master)!.port;
    };
    const target =
      mode === 'Sentinel'
        ? topologies.sentinel()
        : mode === 'Cluster'
          ? topologies.cluster()
          : { mode: 'single' as const, url: `redis://127.0.0.1:${await replicaPort()}` };
    const bot = freshBot();
    const writable = mode === 'a Sentinel replica' ? topologies.sentinel() : target;
    await (await logOn(writable, LIMITS, { minReplicasAcked: 1 })).publish(bot, { eventId: 'evt', body: body('{"a":1}') });
    const log = await logOn(target, LIMITS, { minReplicasAcked: wanted, waitTimeoutMs: 200 });
    const reads = [
      () => log.history(bot).then((s) => s.events.length),
      () => log.locate(bot, 'evt').then((p) => p?.seq),
      () => log.head(bot).then((p) => p.seq),
      () => log.deliveredPosition(bot).then((p) => p?.seq ?? 0),
    ];
    const results = await Promise.all(reads.map((read) => read().then(String, (err: unknown) => String(err))));
    const refusal = {
      refused: /NOREPLICAS.*REDIS_MIN_REPLICAS_ACKED/,
      readonly: /READONLY.*REDIS_MIN_REPLICAS_ACKED/,
      answered: undefined,
    }[outcome];
    expect(results).toEqual(refusal ? Array(4).fill(expect.stringMatching(refusal)) : ['1', '1', '1', '0']);
  });

  it('keeps /readyz 503, naming the setting, while a master has fewer online replicas than wanted', async () => {
    const connection = await connectionTo(topologies.sentinel(), { minReplicasAcked: 3, replicaCheckIntervalMs: 100 });
    await until(() => connection.notReadyReason() !== undefined, 'the replica check');
    expect(connection.notReadyReason()).toMatch(/REDIS_MIN_REPLICAS_ACKED=3 but the master has 2 online replica/);
    const enough = await connectionTo(topologies.cluster(), { minReplicasAcked: 1, replicaCheckIntervalMs: 100 });
    expect(enough.notReadyReason()).toBeUndefined();
  });
});

describe('bad Redis settings: a readiness error naming the setting', () => {
  it.each([
    [
      'a wrong Sentinel master name',
      () => ({ ...topologies.sentinel(), masterName: 'nosuchmaster' }),
      /REDIS_SENTINEL_MASTER=nosuchmaster: no sentinel/,
    ],
    [
      'unreachable sentinels',
      async () => ({ ...topologies.sentinel(), sentinels: [{ host: '127.0.0.1', port: await freePort() }] }),
      /REDIS_SENTINELS: none of 127\.0\.0\.1:\d+ answers/,
    ],
    [
      'unreachable cluster seed nodes',
      async () => ({ ...topologies.cluster(), nodes: [{ host: '127.0.0.1', port: await freePort() }] }),
      /REDIS_CLUSTER_NODES: none of 127\.0\.0\.1:\d+ answers/,
    ],
  ] as const)('%s', async (_name, target, message) => {
    const connection = new RedisConnection({ target: await target() });
    connections.push(connection);
    connection.client.on('error', () => undefined);
    expect(await connection.whenReady(300)).toBe(false);
    expect(connection.notReadyReason()).toMatch(message);
    const log = new RedisEventLog({ connection, ...LIMITS });
    await expect(log.publish(freshBot(), { eventId: 'x', body: body('{}') })).rejects.toThrow();
  });

  it('a cluster with slots no node serves: not ready, naming the setting, and ready by itself once every slot is served', async () => {
    // A lone node does not know its own address until another node tells it (CLUSTER SLOTS would name host ''):
    // announce it, as every node of a real cluster is known by its peers.
    const node = await startRedisServer({
      extraArgs: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000', '--cluster-announce-ip', '127.0.0.1'],
    });
    try {
      const admin = new Redis(node.url);
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '8000');
      admin.disconnect();
      const connection = new RedisConnection({
        target: { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: node.port }], password: '' },
      });
      connections.push(connection);
      connection.client.on('error', () => undefined);
      expect(await connection.whenReady(300)).toBe(false);
      expect(connection.notReadyReason()).toMatch(
        /REDIS_CLUSTER_NODES: the cluster seen from 127\.0\.0\.1:\d+ is in state fail \(8383 of 16384 slots not covered\)/,
      );
      const fixer = new Redis(node.url);
      await fixer.call('CLUSTER', 'ADDSLOTSRANGE', '8001', '16383');
      fixer.disconnect();
      await until(
        () => connection.notReadyReason() === undefined,
        () => `ready after the fix (now: ${connection.notReadyReason()})`,
      );
    } finally {
      await node.dispose();
    }
  });
});
