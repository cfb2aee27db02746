import { describe, expect, it } from 'vitest';
import { hashClientKey, isClientKeyShaped, isExpired, newClientKey, parseClientKeyRecord, readOnlyAllows } from '../src/index.ts';

describe('client keys', () => {
  it('are hwk_ and 256 random bits in base64url, stored as their SHA-256', () => {
    const made = Array.from({ length: 200 }, () => newClientKey());
    for (const { key, hash } of made) {
      expect(key).toMatch(/^hwk_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
      expect(hash).toBe(hashClientKey(key));
      expect(hash).toMatch(/^[0-9a-f]{64}$/);
      expect(isClientKeyShaped(key)).toBe(true);
    }
    expect(new Set(made.map((m) => m.key)).size).toBe(made.length);
  });

  it.each([
    ['hwk_' + 'A'.repeat(32), true],
    ['hwk_' + 'a-_9'.repeat(8), true],
    ['hwk_' + 'A'.repeat(31), false],
    ['hwk_' + 'A'.repeat(129), false],
    ['HWK_' + 'A'.repeat(40), false],
    ['hwk_' + 'A'.repeat(39) + '=', false],
    ['hwk_' + 'A'.repeat(39) + '.', false],
    ['DG5g3B4j9X2KOErG', false],
    ['', false],
    [undefined, false],
  ])('%s is shaped like a key: %s', (value, shaped) => {
    expect(isClientKeyShaped(value)).toBe(shaped);
  });

  it('expire at their expiry, not before, and never without one', () => {
    expect(isExpired({ expiresAtMs: 1000 }, 999)).toBe(false);
    expect(isExpired({ expiresAtMs: 1000 }, 1000)).toBe(true);
    expect(isExpired({}, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('stored records', () => {
  const good = { name: 'home-pc', appid: '102000001', hash: 'a'.repeat(64), createdAtMs: 1 };

  it('keep the optional fields only when present', () => {
    expect(parseClientKeyRecord(good)).toEqual(good);
    expect(parseClientKeyRecord({ ...good, events: ['C2C_MESSAGE_CREATE'], expiresAtMs: 5, readOnly: true })).toEqual({
      ...good,
      events: ['C2C_MESSAGE_CREATE'],
      expiresAtMs: 5,
      readOnly: true,
    });
  });

  it.each([
    [null, /not an object/],
    [{ ...good, name: '-x' }, /name must be/],
    [{ ...good, name: 'a'.repeat(65) }, /name must be/],
    [{ ...good, appid: 'x1' }, /appid/],
    [{ ...good, hash: 'A'.repeat(64) }, /hash/],
    [{ ...good, events: [] }, /events/],
    [{ ...good, events: ['c2c'] }, /events/],
    [{ ...good, expiresAtMs: '5' }, /expiresAtMs/],
    [{ ...good, readOnly: false }, /readOnly/],
    [{ ...good, readOnly: 'yes' }, /readOnly/],
    [{ ...good, createdAtMs: undefined }, /createdAtMs/],
  ])('refuse %j, saying why', (value, why) => {
    expect(parseClientKeyRecord(value)).toMatch(why);
  });
});

describe('read-only keys', () => {
  it.each([
    ['GET', true],
    ['HEAD', true],
    ['POST', false],
    ['PUT', false],
    ['PATCH', false],
    ['DELETE', false],
    ['get', false],
  ])('%s is allowed: %s', (method, allowed) => {
    expect(readOnlyAllows(method)).toBe(allowed);
  });
});
