import { describe, expect, it } from 'vitest';
import { matchSecretEndpoint } from '../src/index.ts';

const S = 'DG5g3B4j9X2KOErG';

describe('matchSecretEndpoint', () => {
  it.each([
    `/webhook?secret=${S}`,
    `/webhook/${S}`,
    `/webhook/${S}/`,
    `/webhook/?secret=${S}`,
    `/webhook/${S}?x=1`,
    `http://example.com/webhook?secret=${S}`,
    `https://example.com:8443/webhook/${S}`,
  ])('finds the secret in %s', (url) => {
    expect(matchSecretEndpoint(url, 'webhook')?.secret?.reveal()).toBe(S);
  });

  it.each([
    [`/ws?secret=${S}`, 'ws', [S]],
    [`/webhook?secret=${S}`, 'webhook', [S]],
    [`/websocket?secret=${S}`, 'websocket', [S]],
    [`/websocket?secret=${S}&after=e:1`, 'websocket', [S]],
  ])('reads %s as the general parser does, query included', (url, name, secrets) => {
    const match = matchSecretEndpoint(url, name)!;
    expect(match.secretIn).toBe('query');
    expect(match.secret?.reveal()).toBe(S);
    expect(match.query.getAll('secret')).toEqual(secrets);
    expect([...match.query]).toEqual([...new URLSearchParams(url.slice(url.indexOf('?') + 1))]);
  });

  it.each([
    '/webhooks?secret=DG5g3B4j9X2KOErG',
    '/webhoo?secret=DG5g3B4j9X2KOErG',
    '/ws?secret=DG5g3B4j9X2KOErG',
    '/?secret=DG5g3B4j9X2KOErG',
  ])('does not take %s for /webhook', (url) => {
    expect(matchSecretEndpoint(url, 'webhook')).toBeNull();
  });

  it.each([
    '/webhook',
    '/webhook?secret=',
    '/webhook?secret=abc',
    `/webhook?secret=${S}&secret=${S}`,
    `/webhook/${S}?secret=${S}`,
    '/webhook/DG5g3B4j9X2KOErG%ZZ',
    '/webhook/has%20space%20inside',
  ])('matches %s but yields no secret', (url) => {
    const match = matchSecretEndpoint(url, 'webhook');
    expect(match).not.toBeNull();
    expect(match?.secret).toBeUndefined();
  });

  it.each(['/', '/webhooks', `/webhook/${S}/extra`, `//evil/webhook?secret=${S}`, `/x/webhook/${S}`, `webhook/${S}`])(
    'does not match %s',
    (url) => {
      expect(matchSecretEndpoint(url, 'webhook')).toBeNull();
    },
  );

  it.each([
    ['/webhook', undefined],
    ['/webhook/', undefined],
    ['/webhook?after=x', undefined],
    [`/webhook?secret=${S}`, 'query'],
    ['/webhook?secret=', 'query'],
    [`/webhook/?secret=${S}`, 'query'],
    [`/webhook/${S}`, 'path'],
    ['/webhook/abc', 'path'],
    [`/webhook/${S}?secret=${S}`, 'path'],
    [`https://example.com/webhook/${S}/`, 'path'],
  ] as const)('says where %s carries its secret: %s', (url, where) => {
    expect(matchSecretEndpoint(url, 'webhook')?.secretIn).toBe(where);
  });

  it('exposes the other query parameters', () => {
    expect(matchSecretEndpoint(`/ws/${S}?after=X%3Ay`, 'ws')?.query.get('after')).toBe('X:y');
  });
});
