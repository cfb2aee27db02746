import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { redisKeys } from '../src/index.ts';

const DOC = readFileSync(new URL('../../../docs/redis.md', import.meta.url), 'utf8');

/** Each builder called with placeholders, and the placeholders swapped for the names docs/redis.md uses. */
const SECRET = AppSecret.of('PLACEHOLDERsecret');
const ARGUMENTS: Record<keyof typeof redisKeys, unknown[]> = {
  channel: [SECRET],
  shardChannel: [SECRET],
  meta: [SECRET],
  stream: [SECRET],
  eventId: [SECRET, 'PLACEHOLDERevent'],
  activity: [SECRET],
  session: ['PLACEHOLDERsession'],
  bots: [],
  clientKeys: [],
  checkChannel: ['PLACEHOLDERnonce'],
  probeChannel: ['PLACEHOLDERnode'],
  shardProbeChannel: ['PLACEHOLDERnode', 'PLACEHOLDERtag'],
  replicaReport: ['PLACEHOLDERreplica'],
  replicas: [],
};
const documented = (key: string) =>
  key
    .replace('PLACEHOLDERsecret', '<S>')
    .replace('PLACEHOLDERevent', '<event id>')
    .replace('PLACEHOLDERsession', '<session id>')
    .replace('PLACEHOLDERnonce', '<nonce>')
    .replace('PLACEHOLDERnode', '<node>')
    .replace('PLACEHOLDERtag', '<tag>')
    .replace('PLACEHOLDERreplica', '<replica id>');

describe('docs/redis.md', () => {
  it('has a placeholder list for every key builder (a new builder must be added here and to the doc)', () => {
    expect(Object.keys(ARGUMENTS).sort()).toEqual(Object.keys(redisKeys).sort());
  });

  it.each(Object.keys(redisKeys) as (keyof typeof redisKeys)[])('documents the key or channel built by redisKeys.%s', (name) => {
    const build = redisKeys[name] as (...args: unknown[]) => string;
    const key = documented(build(...ARGUMENTS[name]));
    expect(DOC).toContain(`\`${key}\``);
  });
});
