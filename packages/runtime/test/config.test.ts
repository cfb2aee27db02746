import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisMode, SETTINGS } from '../src/index.ts';

describe('loadConfig', () => {
  it('has a working default for every setting', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.maxBodyBytes).toBe(1024 * 1024);
    expect(config.dedupWindowSec).toBe(600);
    expect(config.signatureMaxSkewSec).toBe(300);
    expect(config.historyMaxEvents).toBe(10_000);
    expect(config.historyMaxAgeSec).toBe(600);
    expect(config.wsPingIntervalMs).toBe(30_000);
    expect(config.wsTerminateUnresponsive).toBe(true);
    expect(config.wsMaxBufferedBytes).toBe(1024 * 1024);
    expect(config.shutdownTimeoutMs).toBe(9000);
    expect(config.heapGrowthPercent).toBe(35);
    expect(config.gcConcurrent).toBe('auto');
  });

  it('reads VERIFY_THREADS as auto or a thread count', () => {
    expect(loadConfig({}).verifyThreads).toBe('auto');
    expect(loadConfig({ VERIFY_THREADS: ' Auto ' }).verifyThreads).toBe('auto');
    expect(loadConfig({ VERIFY_THREADS: '0' }).verifyThreads).toBe(0);
    expect(loadConfig({ VERIFY_THREADS: '64' }).verifyThreads).toBe(64);
  });

  it('reads GC_CONCURRENT as auto, on or off', () => {
    expect(loadConfig({ GC_CONCURRENT: ' OFF ' }).gcConcurrent).toBe('off');
    expect(loadConfig({ GC_CONCURRENT: 'on' }).gcConcurrent).toBe('on');
  });

  it('every setting has a doc line', () => {
    for (const [name, s] of Object.entries(SETTINGS)) expect(s.doc.length, name).toBeGreaterThan(10);
  });

  it('reads values from the environment', () => {
    const config = loadConfig({ PORT: '9001', WS_TERMINATE_UNRESPONSIVE: 'false', SIGNATURE_MAX_SKEW_SEC: '0' });
    expect(config.port).toBe(9001);
    expect(config.wsTerminateUnresponsive).toBe(false);
    expect(config.signatureMaxSkewSec).toBe(0);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['MAX_BODY_BYTES', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['WS_TERMINATE_UNRESPONSIVE', 'maybe'],
    ['HISTORY_MAX_EVENTS', '0'],
    ['TRUST_PROXY', 'localhost'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'loopback,not-an-ip'],
    ['ALLOW_SECRET_IN_URL', 'sometimes'],
    ['STATUS_REPORT_INTERVAL_MS', '10'],
    ['REDIS_SENTINELS', '10.0.0.1'],
    ['REDIS_SENTINELS', '10.0.0.1:26379,host:99999'],
    ['REDIS_CLUSTER_NODES', 'redis://10.0.0.1:6379'],
    ['REDIS_SENTINEL_MASTER', 'my master'],
    ['REDIS_MIN_REPLICAS_ACKED', '-1'],
    ['REDIS_WAIT_TIMEOUT_MS', '5'],
    ['VERIFY_THREADS', 'many'],
    ['VERIFY_THREADS', '-1'],
    ['VERIFY_THREADS', '65'],
    ['VERIFY_THREADS', '1.5'],
    ['HEAP_GROWTH_PERCENT', '-1'],
    ['HEAP_GROWTH_PERCENT', '500'],
    ['GC_CONCURRENT', 'sometimes'],
    ['GC_CONCURRENT', '1'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('refuses a renamed setting under its old name, naming the new one', () => {
    expect(() => loadConfig({ GC_CONCURRENT_MARKING: 'off' })).toThrow(
      /GC_CONCURRENT_MARKING: renamed GC_CONCURRENT .*set GC_CONCURRENT instead/,
    );
    expect(() => loadConfig({ GC_CONCURRENT_MARKING: 'off', GC_CONCURRENT: 'off' })).toThrow(ConfigError);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  it('refuses a history byte cap smaller than the largest body', () => {
    expect(() => loadConfig({ MAX_BODY_BYTES: String(8 << 20), HISTORY_MAX_BYTES: String(1 << 20) })).toThrow(
      /HISTORY_MAX_BYTES=.*MAX_BODY_BYTES/,
    );
  });

  it.each([
    [{ WEBHOOK_BODY_BUDGET_BYTES: String(512 * 1024) }, /WEBHOOK_BODY_BUDGET_BYTES=524288: must be at least MAX_BODY_BYTES/],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000' }, /HTTP_HEADERS_TIMEOUT_MS=20000: must not exceed HTTP_BODY_TIMEOUT_MS \(10000\)/],
    [{ REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 'b:26379' }, /REDIS_URL, REDIS_SENTINELS are set together: choose one Redis/],
    [{ REDIS_SENTINELS: 'b:26379', REDIS_CLUSTER_NODES: 'c:7000' }, /REDIS_SENTINELS, REDIS_CLUSTER_NODES are set together/],
    [
      { REDIS_URL: 'redis://a', REDIS_SENTINELS: 'b:1', REDIS_CLUSTER_NODES: 'c:7' },
      /REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES are set together/,
    ],
    [{ REDIS_MIN_REPLICAS_ACKED: '1' }, /REDIS_MIN_REPLICAS_ACKED=1: needs Redis/],
    [
      { REDIS_URL: 'redis://a', REDIS_MIN_REPLICAS_ACKED: '1', REDIS_WAIT_TIMEOUT_MS: '2000' },
      /REDIS_WAIT_TIMEOUT_MS=2000: must be below REDIS_COMMAND_TIMEOUT_MS \(2000\)/,
    ],
  ])('refuses settings that contradict each other: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accepts a body budget of exactly MAX_BODY_BYTES and equal header and body timeouts', () => {
    const config = loadConfig({
      WEBHOOK_BODY_BUDGET_BYTES: String(1 << 20),
      HTTP_HEADERS_TIMEOUT_MS: '7000',
      HTTP_BODY_TIMEOUT_MS: '7000',
    });
    expect([config.webhookBodyBudgetBytes, config.httpHeadersTimeoutMs, config.httpBodyTimeoutMs]).toEqual([1 << 20, 7000, 7000]);
  });

  it.each([
    [{ REDIS_URL: 'redis://a:6379' }, 'single'],
    [{ REDIS_SENTINELS: ' s1:26379, [::1]:26380 ', REDIS_SENTINEL_MASTER: 'hw' }, 'sentinel'],
    [{ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001', REDIS_MIN_REPLICAS_ACKED: '1' }, 'cluster'],
    [{}, 'none'],
  ] as const)('reads the Redis form from %j', (env, mode) => {
    const config = loadConfig(env);
    expect(redisMode(config)).toBe(mode);
    if (mode === 'sentinel') {
      expect(config.redisSentinels).toEqual([
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ]);
      expect(config.redisSentinelMaster).toBe('hw');
    }
    if (mode === 'cluster') expect([config.redisClusterNodes.length, config.redisMinReplicasAcked]).toEqual([2, 1]);
  });

  it('checks the WAIT timeout against the command timeout only when it waits for replicas', () => {
    expect(loadConfig({ REDIS_URL: 'redis://a', REDIS_COMMAND_TIMEOUT_MS: '500' }).redisWaitTimeoutMs).toBe(500);
  });

  it('never repeats a Redis password in its complaint', () => {
    expect(() => loadConfig({ REDIS_PASSWORD: 'hunter2', REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'c:7' })).toThrow(/set together/);
    try {
      loadConfig({ REDIS_PASSWORD: 'hunter2', REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'c:7' });
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
    }
  });

  it.each([
    ['loopback', ['loopback']],
    ['none', []],
    [' 10.0.0.0/8, 192.168.1.7 ,::1, fd00::/8', ['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8']],
  ])('reads TRUST_PROXY=%j as a list of trusted proxies', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it.each([
    ['too short', 'short-token'],
    ['with a space', 'a token with spaces in it'],
    ['with non-ASCII', 'токен-токен-токен-токен'],
  ])('refuses an ADMIN_TOKEN %s, without repeating it', (_what, value) => {
    let message = '';
    try {
      loadConfig({ ADMIN_TOKEN: value });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/ADMIN_TOKEN=\(value hidden\): expected 16–256 printable ASCII/);
    expect(message).not.toContain(value);
  });

  it('leaves the status page off by default and takes a long enough ADMIN_TOKEN', () => {
    expect(loadConfig({}).adminToken).toBe('');
    expect(loadConfig({ ADMIN_TOKEN: ' 0123456789abcdef0123 ' }).adminToken).toBe('0123456789abcdef0123');
  });
});
