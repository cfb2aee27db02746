import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AuthFailureThrottle, createProxyTrust } from '../src/index.ts';

/** Only the fields the rule reads; a real request carries more. */
const request = (peer: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress: peer }, headers: { host: 'hookway.example', ...headers } }) as unknown as IncomingMessage;
const forwarded = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };

describe('createProxyTrust', () => {
  it.each<
    [string, string[], string, Record<string, string>, { clientAddress: string; proto: string | undefined; host: string | undefined }]
  >([
    [
      'loopback proxy is believed',
      ['loopback'],
      '127.0.0.1',
      forwarded,
      { clientAddress: '203.0.113.9', proto: 'https', host: 'evil.example' },
    ],
    [
      'IPv4-mapped loopback is loopback',
      ['loopback'],
      '::ffff:127.0.0.1',
      forwarded,
      { clientAddress: '203.0.113.9', proto: 'https', host: 'evil.example' },
    ],
    ['IPv6 loopback', ['loopback'], '::1', forwarded, { clientAddress: '203.0.113.9', proto: 'https', host: 'evil.example' }],
    [
      'an untrusted client cannot claim a host or address',
      ['loopback'],
      '198.51.100.7',
      forwarded,
      { clientAddress: '198.51.100.7', proto: undefined, host: 'hookway.example' },
    ],
    ['nobody trusted', [], '127.0.0.1', forwarded, { clientAddress: '127.0.0.1', proto: undefined, host: 'hookway.example' }],
    ['CIDR range', ['10.0.0.0/8'], '10.1.2.3', forwarded, { clientAddress: '203.0.113.9', proto: 'https', host: 'evil.example' }],
    ['outside the range', ['10.0.0.0/8'], '11.1.2.3', forwarded, { clientAddress: '11.1.2.3', proto: undefined, host: 'hookway.example' }],
    [
      'a spoofed left-most X-Forwarded-For is skipped',
      ['loopback', '10.0.0.0/8'],
      '127.0.0.1',
      { 'x-forwarded-for': '1.2.3.4, 203.0.113.9, 10.0.0.5' },
      { clientAddress: '203.0.113.9', proto: undefined, host: 'hookway.example' },
    ],
    [
      'trusted proxy without headers',
      ['loopback'],
      '127.0.0.1',
      {},
      { clientAddress: '127.0.0.1', proto: undefined, host: 'hookway.example' },
    ],
  ])('%s', (_case, entries, peer, headers, expected) => {
    expect(createProxyTrust(entries).facts(request(peer, headers))).toEqual(expected);
  });
});

describe('AuthFailureThrottle', () => {
  it('refuses an address past its failures per minute until the window ends, and no other address', () => {
    let now = 1_000_000;
    const throttle = new AuthFailureThrottle(3, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSec('a')).toBeUndefined();
      throttle.recordFailure('a');
    }
    expect(throttle.retryAfterSec('a')).toBe(60);
    expect(throttle.retryAfterSec('b')).toBeUndefined();
    now += 59_500;
    expect(throttle.retryAfterSec('a')).toBe(1);
    now += 500;
    expect(throttle.retryAfterSec('a')).toBeUndefined();
  });

  it('tracks a bounded number of addresses', () => {
    const throttle = new AuthFailureThrottle(1, () => 0, 3);
    for (const a of ['a', 'b', 'c', 'd']) throttle.recordFailure(a);
    expect(throttle.trackedAddresses).toBe(3);
    expect(throttle.retryAfterSec('a')).toBeUndefined();
    expect(throttle.retryAfterSec('d')).toBe(60);
  });
});
