import { describe, expect, it } from 'vitest';
import { A, B, C, directory, REFETCH_MIN_INTERVAL_MS, TOKEN_STATES_MAX } from './fakes.ts';

const bearer = (token: string) => ({ kind: 'access_token', token }) as const;
const legacy = (appid: string, token: string) => ({ kind: 'bot_token', appid, token }) as const;

describe('BotDirectory.authenticate with an access token', () => {
  it('accepts the token the platform currently hands out for a bot, asking the platform once', async () => {
    const { dir, api, tokensSeen } = directory();
    expect(await dir.authenticate(bearer(api.tokenOf(B.appid)))).toEqual({ appid: B.appid, secret: B.secret });
    expect(await dir.authenticate(bearer(api.tokenOf(B.appid)))).toEqual({ appid: B.appid, secret: B.secret });
    // A is asked about first (its token might be the one), B's answer matches; the second time the cache answers.
    expect(api.tokenCalls).toEqual([A.appid, B.appid]);
    expect(tokensSeen).toEqual([api.tokenOf(A.appid), api.tokenOf(B.appid)]);
  });

  it('accepts the previous token during a rotation, and the new one once it looks again', async () => {
    const { dir, api, advance } = directory({ configured: [A] });
    const old = api.tokenOf(A.appid);
    expect(await dir.authenticate(bearer(old))).toBeDefined();
    const fresh = api.issue(A.appid);
    // Unknown tokens make it look again, but not more often than every REFETCH_MIN_INTERVAL_MS per bot.
    expect(await dir.authenticate(bearer(fresh))).toBeUndefined();
    advance(REFETCH_MIN_INTERVAL_MS);
    expect(await dir.authenticate(bearer(fresh))).toEqual({ appid: A.appid, secret: A.secret });
    expect(await dir.authenticate(bearer(old))).toEqual({ appid: A.appid, secret: A.secret });
    expect(api.tokenCalls).toHaveLength(2);
  });

  it('refuses a token once it has expired, even when the platform cannot be asked', async () => {
    const { dir, api, advance } = directory({ configured: [A] });
    api.lifetimeSec = 100;
    const old = api.tokenOf(A.appid);
    expect(await dir.authenticate(bearer(old))).toBeDefined();
    advance(99_000);
    expect(await dir.authenticate(bearer(old))).toBeDefined();
    advance(1_000);
    api.failTokens = true;
    expect(await dir.authenticate(bearer(old))).toBeUndefined();
    api.failTokens = false;
    api.issue(A.appid);
    advance(REFETCH_MIN_INTERVAL_MS);
    expect(await dir.authenticate(bearer(old))).toBeUndefined();
  });

  it('the previous token expires on its own schedule, not with the current one', async () => {
    const { dir, api, advance } = directory({ configured: [A] });
    api.lifetimeSec = 100;
    const old = api.tokenOf(A.appid);
    await dir.authenticate(bearer(old));
    advance(50_000);
    const fresh = api.issue(A.appid);
    expect(await dir.authenticate(bearer(fresh))).toBeDefined();
    advance(50_000);
    expect(await dir.authenticate(bearer(fresh))).toBeDefined();
    expect(await dir.authenticate(bearer(old))).toBeUndefined();
  });

  it('a forged token makes it ask the platform at most once per bot per REFETCH_MIN_INTERVAL_MS', async () => {
    const { dir, api, advance } = directory({ configured: [A, B, C] });
    await dir.authenticate(bearer(api.tokenOf(C.appid)));
    expect(api.tokenCalls).toEqual([A.appid, B.appid, C.appid]);
    for (let i = 0; i < 5; i++) expect(await dir.authenticate(bearer('forged-token'))).toBeUndefined();
    expect(api.tokenCalls).toHaveLength(3);
    advance(REFETCH_MIN_INTERVAL_MS);
    for (let i = 0; i < 5; i++) expect(await dir.authenticate(bearer('forged-token'))).toBeUndefined();
    expect(api.tokenCalls).toHaveLength(6);
  });

  it('finds a cached token before asking the platform about any other bot', async () => {
    const { dir, api, advance } = directory({ configured: [A, B, C] });
    await dir.authenticate(bearer(api.tokenOf(C.appid)));
    advance(REFETCH_MIN_INTERVAL_MS * 10);
    expect(await dir.authenticate(bearer(api.tokenOf(C.appid)))).toEqual({ appid: C.appid, secret: C.secret });
    expect(api.tokenCalls).toHaveLength(3);
  });

  it('shares one token request between concurrent checks', async () => {
    const { dir, api } = directory({ configured: [A] });
    let release = () => {};
    api.hold = new Promise((resolve) => (release = resolve));
    const checks = Promise.all([1, 2, 3].map(() => dir.authenticate(bearer(api.tokenOf(A.appid)))));
    // One turn of the event loop: every check has reached the platform call (or is waiting for the one in flight).
    await new Promise((resolve) => setImmediate(resolve));
    expect(api.tokenCalls).toEqual([A.appid]);
    release();
    expect(await checks).toEqual([1, 2, 3].map(() => ({ appid: A.appid, secret: A.secret })));
    expect(api.tokenCalls).toEqual([A.appid]);
  });

  it('refuses everything while the platform fails, without throwing', async () => {
    const { dir, api } = directory();
    api.failTokens = true;
    expect(await dir.authenticate(bearer(api.tokenOf(A.appid)))).toBeUndefined();
  });
});

describe('BotDirectory.authenticate with the legacy Bot <appid>.<token>', () => {
  it('accepts the AppSecret as the token without asking the platform', async () => {
    const { dir, api } = directory();
    expect(await dir.authenticate(legacy(A.appid, A.secret))).toEqual({ appid: A.appid, secret: A.secret });
    expect(api.tokenCalls).toEqual([]);
  });

  it('accepts a current access token for that appid, and only for that appid', async () => {
    const { dir, api } = directory();
    expect(await dir.authenticate(legacy(A.appid, api.tokenOf(A.appid)))).toBeDefined();
    expect(await dir.authenticate(legacy(B.appid, api.tokenOf(A.appid)))).toBeUndefined();
  });

  it('refuses another secret, and an unknown appid without asking the platform', async () => {
    const { dir, api } = directory();
    expect(await dir.authenticate(legacy(A.appid, B.secret))).toBeUndefined();
    expect(await dir.authenticate(legacy(C.appid, C.secret))).toBeUndefined();
    expect(api.tokenCalls).toEqual([A.appid]);
  });
});

describe('the token cache is bounded', () => {
  it('made-up pairs push out the oldest entry that never got a token, never a bot’s token', async () => {
    const revoked = { appid: '102000009', secret: 'RevokedSecret123' };
    const { dir, api } = directory({ configured: [A, revoked] });
    expect(await dir.authenticate(bearer(api.tokenOf(A.appid)))).toBeDefined();
    // The revoked bot's failed request is remembered: asking again at once does not reach the platform.
    await dir.authenticate(bearer('unknown'));
    await dir.authenticate(bearer('unknown'));
    expect(api.tokenCalls.filter((a) => a === revoked.appid)).toHaveLength(1);
    for (let i = 0; i < TOKEN_STATES_MAX; i++) await dir.learn(String(900_000_000 + i), 'MadeUpSecret123');
    const before = api.tokenCalls.length;
    expect(await dir.authenticate(bearer(api.tokenOf(A.appid)))).toBeDefined();
    expect(api.tokenCalls).toHaveLength(before);
    await dir.authenticate(bearer('unknown'));
    expect(api.tokenCalls.slice(before)).toEqual([revoked.appid]);
  });
});
