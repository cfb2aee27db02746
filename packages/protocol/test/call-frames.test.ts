import { describe, expect, it } from 'vitest';
import { apiCallTarget, looksLikeCall, parseCallFrame } from '../src/index.ts';

describe('apiCallTarget: what a call may send upstream', () => {
  it.each([
    ['/v2/groups/G/messages', '/v2/groups/G/messages'],
    ['/v2/users/U/messages/M', '/v2/users/U/messages/M'],
    ['/users/@me', '/users/@me'],
    ['/users/@me/guilds?limit=10', '/users/@me/guilds?limit=10'],
    ['/channels/1/messages', '/channels/1/messages'],
    ['/dms/1/messages', '/dms/1/messages'],
    ['/guilds/1/members?after=0&limit=5', '/guilds/1/members?after=0&limit=5'],
    ['/interactions/abc', '/interactions/abc'],
    ['/v2/x/../groups/G/messages', '/v2/groups/G/messages'],
    ['/app/getAppAccessToken', undefined],
    ['/gateway', undefined],
    ['/gateway/bot', undefined],
    ['/v2', undefined],
    ['/v2/', undefined],
    ['/v2/../app/getAppAccessToken', undefined],
    ['/v2/%2e%2e/gateway', undefined],
    ['//evil.example/v2/x', undefined],
    ['/v2/a\\b', undefined],
    ['/v2/a b', undefined],
    ['/v2/a\tb', undefined],
    ['/v2/a\u0000', undefined],
    ['/v2/a#frag', undefined],
    ['v2/groups', undefined],
    ['', undefined],
    [`/v2/${'a'.repeat(2048)}`, undefined],
    ['/webhook', undefined],
    ['/users/@mine', undefined],
  ])('%j → %j', (path, expected) => {
    expect(apiCallTarget(path)).toBe(expected);
  });
});

describe('call frames', () => {
  it('are recognised by their hookway field only', () => {
    expect(looksLikeCall('{"hookway":"call"}')).toBe(true);
    expect(looksLikeCall('{"op":1,"d":null}')).toBe(false);
  });

  it('parse into id, method, path and an optional body', () => {
    expect(parseCallFrame('{"hookway":"call","id":"r1","method":"POST","path":"/v2/groups/G/messages","body":{"content":"hi"}}')).toEqual({
      ok: true,
      call: { id: 'r1', method: 'POST', path: '/v2/groups/G/messages', body: { content: 'hi' } },
    });
    expect(parseCallFrame('{"hookway":"call","id":"r2","method":"GET","path":"/users/@me"}')).toEqual({
      ok: true,
      call: { id: 'r2', method: 'GET', path: '/users/@me' },
    });
  });

  it.each([
    ['{', null, /JSON/],
    ['"call"', null, /object/],
    ['{"hookway":"call","method":"GET","path":"/users/@me"}', null, /"id"/],
    [`{"hookway":"call","id":"${'x'.repeat(129)}","method":"GET","path":"/users/@me"}`, null, /"id"/],
    ['{"hookway":"result","id":"a","method":"GET","path":"/users/@me"}', 'a', /"call"/],
    ['{"hookway":"call","id":"a","method":"OPTIONS","path":"/users/@me"}', 'a', /"method"/],
    ['{"hookway":"call","id":"a","method":"GET","path":"users"}', 'a', /"path"/],
    ['{"hookway":"call","id":"a","method":"POST","path":"/v2/x","body":[]}', 'a', /"body"/],
  ])('refuse %s (id %j), saying why', (text, id, why) => {
    const parsed = parseCallFrame(text);
    expect(parsed).toMatchObject({ ok: false, id });
    expect(parsed.ok ? '' : parsed.message).toMatch(why);
  });
});
