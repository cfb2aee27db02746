import { describe, expect, it } from 'vitest';
import { isPlausibleSecret, secretFingerprint } from '../src/index.ts';

describe('secret shape', () => {
  it.each(['DG5g3B4j9X2KOErG', '123456abcdef', 'a-b_c.d~e'])('accepts %s', (s) => {
    expect(isPlausibleSecret(s)).toBe(true);
  });
  it.each(['', 'abc', 'has space', 'x'.repeat(129), 'semi;colon', '秘密秘密秘密', undefined, 42])('refuses %j', (s) => {
    expect(isPlausibleSecret(s)).toBe(false);
  });
  it('fingerprints are short, stable and do not contain the secret', () => {
    const fp = secretFingerprint('DG5g3B4j9X2KOErG');
    expect(fp).toMatch(/^bot:[0-9a-f]{8}$/);
    expect(secretFingerprint('DG5g3B4j9X2KOErG')).toBe(fp);
    expect(secretFingerprint('DG5g3B4j9X2KOErH')).not.toBe(fp);
  });
});
