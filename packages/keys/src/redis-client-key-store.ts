import { redisKeys, type RedisConnection } from '@hookway/redis';
import { parseClientKeyRecord, type ClientKeyRecord } from './client-key.ts';
import { byCreation, type ClientKeyStore } from './client-key-store.ts';

/** Adds the record unless a key of that name exists (1), or a key of that hash (-1); 0 when the name is taken. */
const ADD = `
for _, value in ipairs(redis.call('HVALS', KEYS[1])) do
  local ok, record = pcall(cjson.decode, value)
  if ok and type(record) == 'table' and record.name == ARGV[1] then return 0 end
end
if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 0 then return -1 end
return 1`;

/** Removes the key with that name: 1, or 0 when there is none. */
const REVOKE = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, record = pcall(cjson.decode, all[i + 1])
  if ok and type(record) == 'table' and record.name == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    return 1
  end
end
return 0`;

/**
 * Client keys in one Redis hash, `hookway:client-keys`: key hash → record (JSON), shared by every replica. A lookup
 * is one HGET; adding and revoking (by name) are small Lua scripts, so two operators cannot both add one name.
 */
export class RedisClientKeyStore implements ClientKeyStore {
  constructor(private readonly connection: RedisConnection) {}

  async add(record: ClientKeyRecord): Promise<boolean> {
    const { client } = this.connection;
    const result = await this.connection.run(client.eval(ADD, 1, redisKeys.clientKeys(), record.name, record.hash, JSON.stringify(record)));
    if (result === -1) throw new Error('a key with the same hash exists');
    return result === 1;
  }

  async list(): Promise<readonly ClientKeyRecord[]> {
    const entries = await this.connection.run(this.connection.client.hgetall(redisKeys.clientKeys()));
    return Object.entries(entries)
      .flatMap(([hash, value]) => {
        const record = parsed(value);
        return record?.hash === hash ? [record] : [];
      })
      .sort(byCreation);
  }

  async revoke(name: string): Promise<boolean> {
    return (await this.connection.run(this.connection.client.eval(REVOKE, 1, redisKeys.clientKeys(), name))) === 1;
  }

  async findByHash(hash: string): Promise<ClientKeyRecord | undefined> {
    const value = await this.connection.run(this.connection.client.hget(redisKeys.clientKeys(), hash));
    const record = value === null ? undefined : parsed(value);
    // An entry filed under another hash (edited by hand) does not answer for this one.
    return record?.hash === hash ? record : undefined;
  }

  /** The shared connection stays with its owner. */
  async close(): Promise<void> {}
}

/** Redis is trusted, but an entry edited by hand that is no record must not become a key. */
function parsed(value: string): ClientKeyRecord | undefined {
  try {
    const record = parseClientKeyRecord(JSON.parse(value));
    return typeof record === 'string' ? undefined : record;
  } catch {
    return undefined;
  }
}
