import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AppSecret, isPlausibleSecret, secretFingerprint } from '../src/index.ts';

describe('secret shape', () => {
  it.each(['DG5g3B4j9X2KOErG', '123456abcdef', 'a-b_c.d~e'])('accepts %s', (s) => {
    expect(isPlausibleSecret(s)).toBe(true);
    expect(AppSecret.parse(s)?.reveal()).toBe(s);
  });
  it.each(['', 'abc', 'has space', 'x'.repeat(129), 'semi;colon', '秘密秘密秘密', undefined, 42])('refuses %j', (s) => {
    expect(isPlausibleSecret(s)).toBe(false);
    expect(AppSecret.parse(s)).toBeUndefined();
  });
  it('fingerprints are short, stable and do not contain the secret', () => {
    const fp = secretFingerprint('DG5g3B4j9X2KOErG');
    expect(fp).toMatch(/^bot:[0-9a-f]{8}$/);
    expect(secretFingerprint('DG5g3B4j9X2KOErG')).toBe(fp);
    expect(secretFingerprint('DG5g3B4j9X2KOErH')).not.toBe(fp);
  });
});

describe('AppSecret', () => {
  const raw = 'DG5g3B4j9X2KOErG';
  const secret = AppSecret.of(raw);

  it('shows only its tag when logged, interpolated, serialised or inspected', () => {
    const tag = secretFingerprint(raw);
    expect(secret.tag).toBe(tag);
    expect(String(secret)).toBe(tag);
    expect(JSON.stringify({ bot: secret })).toBe(`{"bot":"${tag}"}`);
    expect(inspect({ bot: secret })).not.toContain(raw);
    expect(Object.keys(secret)).toEqual([]);
  });

  it('compares by value', () => {
    expect(secret.equals(AppSecret.of(raw))).toBe(true);
    expect(secret.equals(AppSecret.of('DG5g3B4j9X2KOErH'))).toBe(false);
    expect(secret.equals(AppSecret.of('DG5g3B4j9X2KOErGx'))).toBe(false);
  });

  it('refuses to wrap what is not a secret', () => {
    expect(() => AppSecret.of('no')).toThrow(/not an AppSecret/);
  });
});
