import { mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisConnection } from '@hookway/redis/connection';
import { redisKeys } from '@hookway/redis';
import { readyConnections } from '@hookway/testkit';
import { FileClientKeyStore, RedisClientKeyStore } from '../src/index.ts';
import { clientKeyStoreContract, record } from './client-key-store.contract.ts';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'hookway-keys-')), 'keys.json');

/** This file alone uses this database of the shared test Redis, so each test can start from an empty one. */
const KEYS_DB = 11;
const dbUrl = () => {
  const url = new URL(inject('redisUrl'));
  url.pathname = `/${KEYS_DB}`;
  return url.toString();
};
const connection = readyConnections(() => new RedisConnection({ url: dbUrl() }), afterAll, 5000);

clientKeyStoreContract('FileClientKeyStore', async () => {
  const path = tempFile();
  return { open: () => new FileClientKeyStore(path) };
});

clientKeyStoreContract('RedisClientKeyStore', async () => {
  const [one, two] = [await connection(), await connection()];
  await one.client.flushdb();
  let opened = 0;
  return { open: () => new RedisClientKeyStore(opened++ % 2 === 0 ? one : two) };
});

describe('FileClientKeyStore specifics', () => {
  it('treats a missing file as no keys, and creates it (mode 0600, no temporary file left) on the first add', async () => {
    const path = tempFile();
    const keys = new FileClientKeyStore(path);
    expect(await keys.list()).toEqual([]);
    const { key: _key, ...k } = record();
    await keys.add(k);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(path, '..'))).toEqual(['keys.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, keys: [k] });
  });

  it('stores only the hash: the key itself is nowhere in the file', async () => {
    const path = tempFile();
    const { key, ...k } = record();
    await new FileClientKeyStore(path).add(k);
    expect(readFileSync(path, 'utf8')).not.toContain(key.slice(4));
  });

  it('names the file and the problem when it does not parse, for reads and writes alike', async () => {
    const path = tempFile();
    const keys = new FileClientKeyStore(path);
    writeFileSync(path, '{"version":1,"keys":[');
    await expect(keys.findByHash('a'.repeat(64))).rejects.toThrow(`${path} is not valid JSON`);
    await expect(keys.add(record())).rejects.toThrow(`${path} is not valid JSON`);
    writeFileSync(path, JSON.stringify({ version: 1, keys: [{ name: 'ok', appid: 'x' }] }));
    await expect(keys.list()).rejects.toThrow(`${path}, key 1: appid must be 1–20 digits`);
    writeFileSync(path, '[]');
    await expect(keys.list()).rejects.toThrow(`${path}: expected {"version":1,"keys":[…]}`);
  });

  it('sees a change that stat cannot (same inode, size and mtime) within about a second', async () => {
    const path = tempFile();
    const [before, after] = [record(), record()];
    const { key: _a, ...stored } = before;
    await new FileClientKeyStore(path).add(stored);
    // A whole second, which utimes can set again exactly.
    const second = Math.floor(Date.now() / 1000);
    utimesSync(path, second, second);
    const gateway = new FileClientKeyStore(path);
    expect(await gateway.findByHash(before.hash)).toBeDefined();
    writeFileSync(path, readFileSync(path, 'utf8').replace(before.hash, after.hash));
    utimesSync(path, second, second);
    const deadline = Date.now() + 3000;
    while ((await gateway.findByHash(after.hash)) === undefined) {
      if (Date.now() > deadline) throw new Error('the change was never seen');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await gateway.findByHash(before.hash)).toBeUndefined();
  });

  it('says so when the file’s directory does not exist', async () => {
    const path = join(tempFile(), '..', 'missing', 'keys.json');
    await expect(new FileClientKeyStore(path).add(record())).rejects.toThrow(
      /cannot write client keys to .*: its directory does not exist/,
    );
  });
});

describe('RedisClientKeyStore specifics', () => {
  it('keeps keys in the hash hookway:client-keys, field = hash, and ignores entries that are no record', async () => {
    const c = await connection();
    await c.client.flushdb();
    const keys = new RedisClientKeyStore(c);
    const raw = new Redis(dbUrl());
    try {
      const { key, ...k } = record();
      await keys.add(k);
      expect(JSON.parse((await raw.hget(redisKeys.clientKeys(), k.hash))!)).toEqual(k);
      expect(JSON.stringify(await raw.hgetall(redisKeys.clientKeys()))).not.toContain(key.slice(4));
      const other = record();
      await raw.hset(redisKeys.clientKeys(), other.hash, '{"name":"broken"}');
      await raw.hset(redisKeys.clientKeys(), 'b'.repeat(64), JSON.stringify({ ...k, name: 'filed-elsewhere' }));
      expect(await keys.findByHash(other.hash)).toBeUndefined();
      expect(await keys.findByHash('b'.repeat(64))).toBeUndefined();
      expect(await keys.list()).toEqual([k]);
    } finally {
      raw.disconnect();
    }
  });
});
