import { lineSink } from '@hookway/testkit';
import { describe, expect, it } from 'vitest';
import { secretFingerprint } from '@hookway/protocol';
import { createLogger, createRedactor } from '../src/index.ts';

const SECRET = 'DG5g3B4j9X2KOErG';

describe('redactor', () => {
  it('replaces secrets in query strings and URL paths by shape, without knowing them', () => {
    const r = createRedactor();
    const fp = secretFingerprint(SECRET);
    expect(r.redact(`GET /ws?secret=${SECRET}&after=x`)).toBe(`GET /ws?secret=${fp}&after=x`);
    expect(r.redact(`POST /webhook/${SECRET}?a=1`)).toBe(`POST /webhook/${fp}?a=1`);
    expect(r.redact(`"url":"/ws/${SECRET}"`)).toBe(`"url":"/ws/${fp}"`);
  });

  it('replaces client keys by shape: in ?key=, and anywhere by their hwk_ prefix', () => {
    const r = createRedactor();
    const key = `hwk_${'Ab3-_'.repeat(8)}xyz`;
    expect(r.redact(`GET /ws?key=${key}&after=x`)).toBe(`GET /ws?key=${secretFingerprint(key)}&after=x`);
    expect(r.redact(`"authorization":"Bearer ${key}"`)).toBe(`"authorization":"Bearer hwk_${secretFingerprint(key.slice(4))}"`);
    expect(r.redact(`{"op":2,"d":{"token":"QQBot ${key}"}}`)).not.toContain(key.slice(4));
  });

  it('replaces secrets inside Redis key and channel names by shape', () => {
    const r = createRedactor();
    const fp = secretFingerprint(SECRET);
    expect(r.redact(`"args":["qq:{${SECRET}}:meta","qq:${SECRET}"]`)).toBe(`"args":["qq:{${fp}}:meta","qq:${fp}"]`);
  });

  it('replaces remembered values of any shape literally (a Redis password with symbols)', () => {
    const r = createRedactor();
    r.remember('Old/Pa55!word');
    r.remember('a:b');
    expect(r.redact('"AUTH","default","Old/Pa55!word" and a:b')).toBe(
      `"AUTH","default","${secretFingerprint('Old/Pa55!word')}" and ${secretFingerprint('a:b')}`,
    );
  });

  it('replaces remembered secrets wherever they appear, also glued to a prefix', () => {
    const r = createRedactor();
    r.remember(SECRET);
    const fp = secretFingerprint(SECRET);
    expect(r.redact(`error: key for ${SECRET} failed`)).toBe(`error: key for ${fp} failed`);
    expect(r.redact(`{"key":"qq.${SECRET}","k2":"qq:${SECRET}"}`)).toBe(`{"key":"qq.${fp}","k2":"qq:${fp}"}`);
  });

  it('stays fast with many remembered secrets (no per-secret work per line)', () => {
    const r = createRedactor();
    for (let i = 0; i < 20_000; i++) r.remember(`secret${i.toString().padStart(10, '0')}`);
    r.remember(SECRET);
    const line = `{"msg":"client connected ${SECRET}","bot":"x","connections":3}`;
    expect(r.redact(line)).not.toContain(SECRET);
    expect(r.redact('{"msg":"client connected"}')).toBe('{"msg":"client connected"}');
  });
});

describe('logger', () => {
  it('never writes a remembered or URL-borne secret, whatever the call site logs', () => {
    const { stream: sink, lines } = lineSink();
    const redactor = createRedactor();
    const logger = createLogger({ level: 'trace', redactor, destination: sink });
    redactor.remember('otherSecret123');
    logger.info({ url: `/webhook?secret=${SECRET}` }, 'request');
    logger.debug({ err: new Error('bad key otherSecret123') }, 'oops');
    logger.trace(`raw /ws/${SECRET}`);
    const all = lines.join('');
    expect(lines).toHaveLength(3);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('otherSecret123');
    expect(all).toContain(secretFingerprint(SECRET));
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'request' });
  });
});
