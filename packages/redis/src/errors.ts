/**
 * An error from Redis without ioredis's attached command: those arguments hold keys named after AppSecrets
 * (and AUTH holds the password), and error objects end up in logs.
 */
export class RedisCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisCommandError';
  }
}

/** A write Redis stored but fewer replicas than REDIS_MIN_REPLICAS_ACKED confirmed in time: not yet safe to acknowledge. */
export class ReplicaShortfallError extends RedisCommandError {
  constructor(
    readonly replicasAcked: number,
    readonly replicasWanted: number,
  ) {
    super(`only ${replicasAcked} of REDIS_MIN_REPLICAS_ACKED=${replicasWanted} replicas confirmed the write in time`);
    this.name = 'ReplicaShortfallError';
  }
}

export const cleanRedisError = (err: unknown) =>
  err instanceof RedisCommandError ? err : new RedisCommandError(err instanceof Error ? err.message : String(err));
