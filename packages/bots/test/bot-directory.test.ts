import { describe, expect, it } from 'vitest';
import {
  A,
  B,
  C,
  directory,
  KNOWN_BOTS_CACHE_MS,
  LEARNED_MAX,
  REFETCH_MIN_INTERVAL_MS,
  RENEW_BEFORE_EXPIRY_MS,
  type Bot,
} from './fakes.ts';

const many = (count: number): Bot[] =>
  Array.from({ length: count }, (_, i) => ({ appid: String(800_000_000 + i), secret: `Learned${i}xx` }));

describe('BotDirectory.learn', () => {
  it('keeps a pair only once the platform issues a token for it', async () => {
    const { dir, api, store } = directory();
    expect(await dir.learn(C.appid, C.secret)).toBe(true);
    expect(api.tokenCalls).toEqual([C.appid]);
    expect([...store.bots]).toEqual([[C.appid, C.secret]]);
    // Known at once, without waiting for the cache of learned bots to expire.
    expect((await dir.bots()).get(C.appid)).toBe(C.secret);
    expect(await dir.authenticate({ kind: 'bot_token', appid: C.appid, token: C.secret })).toEqual({ appid: C.appid, secret: C.secret });
  });

  it('refuses another secret for a real appid (X-Bot-Appid is not signed)', async () => {
    const { dir, store } = directory();
    expect(await dir.learn(C.appid, 'AttackerOwnSecret99')).toBe(false);
    expect(store.writes).toBe(0);
    expect((await dir.bots()).has(C.appid)).toBe(false);
  });

  it('answers false while the platform fails, and learns once it answers again', async () => {
    const { dir, api, store } = directory();
    api.failTokens = true;
    expect(await dir.learn(C.appid, C.secret)).toBe(false);
    expect(store.writes).toBe(0);
    api.failTokens = false;
    expect(await dir.learn(C.appid, C.secret)).toBe(true);
    expect(store.writes).toBe(1);
  });

  it('never replaces a configured bot, and does not ask the platform about one', async () => {
    const { dir, api, store } = directory();
    expect(await dir.learn(A.appid, B.secret)).toBe(false);
    expect(await dir.learn(A.appid, A.secret)).toBe(true);
    expect(api.tokenCalls).toEqual([]);
    expect(store.writes).toBe(0);
    expect((await dir.bots()).get(A.appid)).toBe(A.secret);
  });

  it('does not ask again about a pair it already learned', async () => {
    const { dir, api, store } = directory({ learned: [C] });
    expect(await dir.learn(C.appid, C.secret)).toBe(true);
    expect(api.tokenCalls).toEqual([]);
    expect(store.writes).toBe(0);
  });

  it(`stops learning at ${LEARNED_MAX} bots`, async () => {
    const { dir, api, store } = directory({ configured: [], learned: many(LEARNED_MAX) });
    expect(await dir.learn(C.appid, C.secret)).toBe(false);
    expect(api.tokenCalls).toEqual([]);
    expect(store.writes).toBe(0);
  });
});

describe('BotDirectory.bots', () => {
  it('merges configured and learned bots, configured first in conflicts', async () => {
    const { dir } = directory({ configured: [A], learned: [{ appid: A.appid, secret: 'LearnedElsewhere1' }, C] });
    expect(await dir.bots()).toEqual(
      new Map([
        [A.appid, A.secret],
        [C.appid, C.secret],
      ]),
    );
  });

  it(`reads learned bots again after ${KNOWN_BOTS_CACHE_MS} ms (another replica may have learned one)`, async () => {
    const { dir, store, advance } = directory({ configured: [A] });
    expect((await dir.bots()).size).toBe(1);
    store.bots.set(C.appid, C.secret);
    expect((await dir.bots()).size).toBe(1);
    advance(KNOWN_BOTS_CACHE_MS + 1);
    expect((await dir.bots()).get(C.appid)).toBe(C.secret);
  });

  it('serves the configured bots when the store of learned bots cannot be read', async () => {
    const { dir, store } = directory({ configured: [A], learned: [C] });
    store.failReads = true;
    expect([...(await dir.bots()).keys()]).toEqual([A.appid]);
  });

  it('gives the secret of a configured bot only (the secretless webhook trusts BOTS and BOTS_FILE, not learning)', async () => {
    const { dir, api, store } = directory({ configured: [A], learned: [C] });
    expect(dir.configuredSecret(A.appid)).toBe(A.secret);
    expect(dir.configuredSecret(C.appid)).toBeUndefined();
    expect(dir.configuredSecret(B.appid)).toBeUndefined();
    expect(dir.configuredSecret('')).toBeUndefined();
    expect([api.tokenCalls, store.writes]).toEqual([[], 0]);
  });

  it('finds the appid of a secret, configured or learned', async () => {
    const { dir } = directory({ configured: [A], learned: [C] });
    expect(await dir.appidOf(A.secret)).toBe(A.appid);
    expect(await dir.appidOf(C.secret)).toBe(C.appid);
    expect(await dir.appidOf(B.secret)).toBeUndefined();
  });
});

describe('BotDirectory.tokenForSecret', () => {
  it('gives a current token for the right secret, asking the platform only when it is about to expire', async () => {
    const { dir, api, advance, tokensSeen } = directory();
    const first = api.tokenOf(A.appid);
    expect(await dir.tokenForSecret(A.appid, A.secret)).toBe(first);
    advance(7200_000 - RENEW_BEFORE_EXPIRY_MS - 1);
    expect(await dir.tokenForSecret(A.appid, A.secret)).toBe(first);
    expect(api.tokenCalls).toHaveLength(1);
    const next = api.issue(A.appid);
    advance(1);
    expect(await dir.tokenForSecret(A.appid, A.secret)).toBe(next);
    expect(api.tokenCalls).toHaveLength(2);
    expect(tokensSeen).toEqual([first, next]);
  });

  it('gives nothing for a wrong secret or an unknown appid, without asking the platform', async () => {
    const { dir, api } = directory();
    expect(await dir.tokenForSecret(A.appid, B.secret)).toBeUndefined();
    expect(await dir.tokenForSecret(C.appid, C.secret)).toBeUndefined();
    expect(api.tokenCalls).toEqual([]);
  });

  it('rejects when the platform fails (the pass-through then forwards the credential unchanged)', async () => {
    const { dir, api } = directory();
    api.failTokens = true;
    await expect(dir.tokenForSecret(A.appid, A.secret)).rejects.toThrow(/token service unavailable/);
  });
});

describe('BotDirectory.user', () => {
  it('asks /users/@me once per bot and remembers the answer', async () => {
    const { dir, api } = directory();
    expect(await dir.user(A)).toEqual({ id: `user-of-${A.appid}`, username: `bot ${A.appid}` });
    expect(await dir.user(A)).toEqual({ id: `user-of-${A.appid}`, username: `bot ${A.appid}` });
    expect(api.selfCalls).toEqual([A.appid]);
  });

  it('falls back to a stand-in when /users/@me or the token fails, and asks again next time', async () => {
    const { dir, api } = directory();
    api.failSelf = true;
    expect(await dir.user(A)).toEqual({ id: A.appid, username: 'qqbot' });
    api.failSelf = false;
    api.failTokens = true;
    expect(await dir.user(B)).toEqual({ id: B.appid, username: 'qqbot' });
    api.failTokens = false;
    expect(await dir.user(A)).toEqual({ id: `user-of-${A.appid}`, username: `bot ${A.appid}` });
  });

  it('does not ask the platform for a bot known only by its secret', async () => {
    const { dir, api } = directory();
    expect(await dir.user({ appid: undefined, secret: A.secret })).toEqual({ id: '0', username: 'qqbot' });
    expect([api.tokenCalls, api.selfCalls]).toEqual([[], []]);
  });
});

describe('BotDirectory.tokenAfterRejection (the platform refused a token with 401 / 11244)', () => {
  it('fetches a new token at once, but not again within REFETCH_MIN_INTERVAL_MS of the last rejection', async () => {
    const { dir, api, advance } = directory();
    const first = (await dir.tokenForSecret(A.appid, A.secret))!;
    const renewed = api.issue(A.appid);
    expect(await dir.tokenAfterRejection(A.appid, A.secret, first)).toBe(renewed);
    expect(api.tokenCalls).toEqual([A.appid, A.appid]);
    // A token that is no longer the cached one: the cached one, without asking.
    expect(await dir.tokenAfterRejection(A.appid, A.secret, first)).toBe(renewed);
    expect(api.tokenCalls).toHaveLength(2);
    // The platform keeps refusing: no second fetch until the interval has passed.
    expect(await dir.tokenAfterRejection(A.appid, A.secret, renewed)).toBeUndefined();
    expect(api.tokenCalls).toHaveLength(2);
    advance(REFETCH_MIN_INTERVAL_MS);
    const third = api.issue(A.appid);
    expect(await dir.tokenAfterRejection(A.appid, A.secret, renewed)).toBe(third);
    expect(await dir.tokenForSecret(A.appid, A.secret)).toBe(third);
  });

  it('answers undefined when the platform hands out the same token again or fails', async () => {
    const { dir, api } = directory();
    const token = (await dir.tokenForSecret(A.appid, A.secret))!;
    expect(await dir.tokenAfterRejection(A.appid, A.secret, token)).toBeUndefined();
    api.failTokens = true;
    expect(await dir.tokenAfterRejection(B.appid, B.secret, 'tok-unknown')).toBeUndefined();
  });
});
