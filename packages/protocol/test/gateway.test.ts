import { describe, expect, it } from 'vitest';
import { clientKeyInToken, dispatchFrame, parseGatewayToken, readyFrame, shardOf, topLevelValueRange } from '../src/index.ts';

describe('topLevelValueRange', () => {
  const cases: [string, string | undefined][] = [
    ['{"op":0,"d":{"a":1},"t":"X"}', '{"a":1}'],
    ['{ "d" : [1, {"d":2}, "}"] , "op":0}', '[1, {"d":2}, "}"]'],
    ['{"op":0,"dd":1,"d":"quo\\"ted"}', '"quo\\"ted"'],
    ['{"d":12345678901234567890123}', '12345678901234567890123'],
    ['{"d":null}', 'null'],
    ['{"x":{"d":1}}', undefined],
    ['{"op":0}', undefined],
    ['[1]', undefined],
  ];
  it.each(cases)('finds d in %s', (json, expected) => {
    const body = Buffer.from(json);
    const range = topLevelValueRange(body, 'd');
    expect(range && body.subarray(range[0], range[1]).toString()).toBe(expected);
  });

  it('keeps non-ASCII bytes exact', () => {
    const body = Buffer.from('{"op":0,"d":{"content":"北京 😀"},"t":"X"}');
    const [start, end] = topLevelValueRange(body, 'd')!;
    expect(body.subarray(start, end).toString()).toBe('{"content":"北京 😀"}');
  });
});

describe('gateway frames', () => {
  it('builds a dispatch around the raw d, with s, t and id', () => {
    const frame = dispatchFrame(7, 'GROUP_AT_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE:x', Buffer.from('{"big":12345678901234567890}'));
    expect(frame.toString()).toBe(
      '{"op":0,"s":7,"t":"GROUP_AT_MESSAGE_CREATE","id":"GROUP_AT_MESSAGE_CREATE:x","d":{"big":12345678901234567890}}',
    );
  });
  it('builds READY with everything the SDKs read', () => {
    expect(JSON.parse(readyFrame({ sessionId: 'abc', user: { id: '123', username: 'bot' }, shard: [0, 1] }))).toEqual({
      op: 0,
      s: 1,
      t: 'READY',
      d: { version: 1, session_id: 'abc', user: { id: '123', username: 'bot', bot: true }, shard: [0, 1] },
    });
  });
});

describe('parseGatewayToken', () => {
  it.each([
    ['QQBot abc.def-1', { kind: 'access_token', token: 'abc.def-1' }],
    ['abc.def-1', { kind: 'access_token', token: 'abc.def-1' }],
    ['Bot 102000000.SeCrEt', { kind: 'bot_token', appid: '102000000', token: 'SeCrEt' }],
  ])('reads %s', (raw, expected) => {
    expect(parseGatewayToken(raw)).toEqual(expected);
  });
  it.each(['', 'QQBot', 'Bot', 'two words here', 42, null])('refuses %j', (raw) => {
    expect(parseGatewayToken(raw)).toBeUndefined();
  });
});

describe('clientKeyInToken', () => {
  const key = `hwk_${'k'.repeat(43)}`;
  it.each([
    [key, key],
    [`QQBot ${key}`, key],
    [`Bearer ${key}`, key],
    [`  QQBot   ${key} `, key],
    ['hwk_short', 'hwk_short'],
    ['QQBot tok-102000001-1', undefined],
    [`Bot 102000001.${key}`, undefined],
    [`Basic ${key}`, undefined],
    [42, undefined],
    [`hwk_${'k'.repeat(2100)}`, undefined],
  ])('finds the key in %j: %s', (raw, expected) => {
    expect(clientKeyInToken(raw)).toBe(expected);
  });
});

describe('shardOf', () => {
  it('places guild events by (guild_id >> 22) % n, with 64-bit ids', () => {
    expect(shardOf('18700000000001', 4)).toBe(Number((18700000000001n >> 22n) % 4n));
    expect(shardOf('9223372036854775807', 3)).toBe(Number((9223372036854775807n >> 22n) % 3n));
  });
  it('puts events without a numeric guild_id on shard 0', () => {
    expect(shardOf(undefined, 4)).toBe(0);
    expect(shardOf('C9F778FE', 4)).toBe(0);
    expect(shardOf('18700000000001', 1)).toBe(0);
  });
});
