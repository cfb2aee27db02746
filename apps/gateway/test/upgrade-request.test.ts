import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseUpgradeTarget, type UpgradeTarget } from '../src/index.ts';

const S = 'DG5g3B4j9X2KOErG';
const K = `hwk_${'Kk0_-'.repeat(8)}xyz`;
const K2 = `hwk_${'Zz9'.repeat(11)}`;
const NONCE = 'n0nce_-'.repeat(6);
const bearer = (value: string): IncomingHttpHeaders => ({ authorization: `Bearer ${value}` });

/** One line per outcome, so the table reads like the rules. */
function summary(target: UpgradeTarget): string {
  if (target.kind === 'refused') return `${target.status} ${target.error}`;
  if (target.kind === 'check') return `check ${target.nonce}${target.key !== undefined ? ` key:${target.key}` : ''}`;
  const c = target.credential;
  const who = !c ? 'none' : c.kind === 'key' ? `key:${c.key}` : `secret:${c.secret.reveal()}`;
  return `${target.kind} ${who}${target.kind === 'raw' && target.after !== undefined ? ` after:${target.after}` : ''}`;
}

type Case = [description: string, url: string, headers: IncomingHttpHeaders, allowSecretInUrl: boolean, expected: string];
const cases: Case[] = [
  // Raw mode with the AppSecret, as the original relay took it.
  ['secret in the query', `/ws?secret=${S}`, {}, true, `raw secret:${S}`],
  ['secret in the path', `/ws/${S}`, {}, true, `raw secret:${S}`],
  ['secret in the path, trailing slash, after', `/ws/${S}/?after=X:1`, {}, true, `raw secret:${S} after:X:1`],
  ['absolute form from a proxy', `http://h:8000/ws?secret=${S}`, {}, true, `raw secret:${S}`],
  ['implausible secret', '/ws?secret=abc', {}, true, '400 invalid_secret'],
  ['secret given twice', `/ws?secret=${S}&secret=${S}`, {}, true, '400 invalid_secret'],
  ['secret in path and query', `/ws/${S}?secret=${S}`, {}, true, '400 invalid_secret'],
  ['undecodable path secret', '/ws/has%2', {}, true, '400 invalid_secret'],
  ['nothing at all', '/ws', {}, true, '400 missing_credentials'],
  ['empty after', `/ws?secret=${S}&after=`, {}, true, '400 invalid_after'],
  ['two afters', `/ws?secret=${S}&after=a&after=b`, {}, true, '400 invalid_after'],
  ['oversized after', `/ws?secret=${S}&after=${'x'.repeat(513)}`, {}, true, '400 invalid_after'],
  // ALLOW_SECRET_IN_URL=false refuses every URL form, even malformed ones, and keys keep working.
  ['secret in the query, forms off', `/ws?secret=${S}`, {}, false, '403 secret_in_url_refused'],
  ['secret in the path, forms off', `/ws/${S}`, {}, false, '403 secret_in_url_refused'],
  ['implausible secret, forms off', '/ws?secret=abc', {}, false, '403 secret_in_url_refused'],
  ['gateway secret, forms off', `/websocket?secret=${S}`, {}, false, '403 secret_in_url_refused'],
  ['gateway path secret, forms off', `/websocket/${S}`, {}, false, '403 secret_in_url_refused'],
  ['nothing at all, forms off', '/ws', {}, false, '400 missing_credentials'],
  ['key in the query, forms off', `/ws?key=${K}`, {}, false, `raw key:${K}`],
  ['gateway without a credential, forms off', '/websocket', {}, false, 'gateway none'],
  // Raw mode with a client key.
  ['key in the query', `/ws?key=${K}&after=X:1`, {}, true, `raw key:${K} after:X:1`],
  ['key in the header', '/ws', bearer(K), true, `raw key:${K}`],
  ['key in the header, lower-case scheme', '/ws', { authorization: `bearer ${K}` }, true, `raw key:${K}`],
  ['same key in both', `/ws?key=${K}`, bearer(K), true, `raw key:${K}`],
  ['different keys in query and header', `/ws?key=${K}`, bearer(K2), true, '400 ambiguous_credentials'],
  ['key given twice', `/ws?key=${K}&key=${K}`, {}, true, '400 invalid_key'],
  ['secret and key', `/ws?secret=${S}&key=${K}`, {}, true, '400 ambiguous_credentials'],
  ['secret in the path and a key in the header', `/ws/${S}`, bearer(K), true, '400 ambiguous_credentials'],
  ['not a key in the query', '/ws?key=letmein', {}, true, '401 invalid_key'],
  ['empty key', '/ws?key=', {}, true, '401 invalid_key'],
  ['too short to be a key', '/ws?key=hwk_abc', {}, true, '401 invalid_key'],
  ['not a key in the header', '/ws', bearer('letmein'), true, '401 invalid_key'],
  ['a Basic header is not ours', '/ws', { authorization: 'Basic dXNlcjpwYXNz' }, true, '400 missing_credentials'],
  ['a key where the secret goes (query)', `/ws?secret=${K}`, {}, true, '400 key_in_secret_place'],
  ['a key where the secret goes (path)', `/ws/${K}`, {}, false, '400 key_in_secret_place'],
  // Gateway mode: the credential is optional at the upgrade.
  ['gateway, no credential', '/websocket', {}, true, 'gateway none'],
  ['gateway, secret', `/websocket?secret=${S}`, {}, true, `gateway secret:${S}`],
  ['gateway, implausible secret', '/websocket?secret=x', {}, true, '400 invalid_secret'],
  ['gateway, key in the query', `/websocket?key=${K}`, {}, true, `gateway key:${K}`],
  ['gateway, key in the header', '/websocket', bearer(K), true, `gateway key:${K}`],
  ['gateway, an access token in the header is left to Identify', '/websocket', bearer('tok-1'), true, 'gateway none'],
  ['gateway, not a key in the query', '/websocket?key=tok-1', {}, true, '401 invalid_key'],
  ['gateway, a key where the secret goes', `/websocket/${K}`, {}, true, '400 key_in_secret_place'],
  // Elsewhere.
  ['unknown path', '/elsewhere', {}, true, '404 not_found'],
  ['extra path segment', `/ws/${S}/extra`, {}, true, '404 not_found'],
  ['no url', '', {}, true, '404 not_found'],
  // hookway check's own socket: a nonce, at most a client key, never an AppSecret.
  ['check socket', `/ws/check/${NONCE}`, {}, false, `check ${NONCE}`],
  ['check socket with a key', `/ws/check/${NONCE}/`, bearer(K), false, `check ${NONCE} key:${K}`],
  ['check socket, absolute form', `http://h/ws/check/${NONCE}?x=1`, {}, false, `check ${NONCE}`],
  ['check socket without a nonce', '/ws/check', {}, true, '400 invalid_check_nonce'],
  ['check socket with a short nonce', '/ws/check/abc', {}, true, '400 invalid_check_nonce'],
  ['check socket with a secret', `/ws/check/${NONCE}?secret=${S}`, {}, true, '400 secret_not_taken'],
  ['check socket with a non-key bearer', `/ws/check/${NONCE}`, bearer(S), true, '401 invalid_key'],
];

describe('parseUpgradeTarget', () => {
  it.each(cases)('%s: %s', (_description, url, headers, allowSecretInUrl, expected) => {
    expect(summary(parseUpgradeTarget({ url, headers }, { allowSecretInUrl }))).toBe(expected);
  });

  it('names the replacement when a secret form is turned off', () => {
    const raw = parseUpgradeTarget({ url: `/ws?secret=${S}`, headers: {} }, { allowSecretInUrl: false });
    const gateway = parseUpgradeTarget({ url: `/websocket?secret=${S}`, headers: {} }, { allowSecretInUrl: false });
    expect(raw).toMatchObject({
      message: expect.stringMatching(/ALLOW_SECRET_IN_URL=false.*Authorization: Bearer <client key>.*\/ws\?key=/),
    });
    expect(gateway).toMatchObject({ message: expect.stringMatching(/ALLOW_SECRET_IN_URL=false.*\/websocket\?key=<client key>/) });
    for (const t of [raw, gateway]) expect(JSON.stringify(t)).not.toContain(S);
  });

  it('offers ?secret= among the ways to connect only while it is allowed', () => {
    const on = parseUpgradeTarget({ url: '/ws', headers: {} }, { allowSecretInUrl: true });
    const off = parseUpgradeTarget({ url: '/ws', headers: {} }, { allowSecretInUrl: false });
    expect(on).toMatchObject({ message: expect.stringContaining('?secret=') });
    expect(off).toMatchObject({ message: expect.not.stringContaining('secret') });
  });
});

/** The raw client's choices, as a line: what events= and hello= came to. */
function choices(target: UpgradeTarget): string {
  if (target.kind === 'refused') return `${target.status} ${target.error}`;
  if (target.kind !== 'raw') return target.kind;
  return `events:${target.events ? target.events.join(',') : 'all'} hello:${target.hello}`;
}

const G = 'GROUP_AT_MESSAGE_CREATE';
const C = 'C2C_MESSAGE_CREATE';
const choiceCases: [description: string, url: string, headers: IncomingHttpHeaders, expected: string][] = [
  ['no filter', `/ws?secret=${S}`, {}, 'events:all hello:false'],
  ['one type', `/ws?secret=${S}&events=${G}`, {}, `events:${G} hello:false`],
  ['two types', `/ws?secret=${S}&events=${G},${C}`, {}, `events:${G},${C} hello:false`],
  ['encoded comma and spaces', `/ws?secret=${S}&events=${G}%2C%20${C}`, {}, `events:${G},${C} hello:false`],
  ['lower case', `/ws?secret=${S}&events=group_at_message_create`, {}, `events:${G} hello:false`],
  ['duplicates count once', `/ws?secret=${S}&events=${G},${G.toLowerCase()},${G}`, {}, `events:${G} hello:false`],
  ['empty items skipped', `/ws?secret=${S}&events=,${C},`, {}, `events:${C} hello:false`],
  ['path form', `/ws/${S}?events=${C}&after=X:1`, {}, `events:${C} hello:false`],
  ['with a key in the header', `/ws?events=${C}`, bearer(K), `events:${C} hello:false`],
  ['empty', `/ws?secret=${S}&events=`, {}, '400 invalid_events'],
  ['only commas', `/ws?secret=${S}&events=,,`, {}, '400 invalid_events'],
  ['given twice', `/ws?secret=${S}&events=${G}&events=${C}`, {}, '400 invalid_events'],
  ['oversized', `/ws?secret=${S}&events=${'A,'.repeat(1100)}`, {}, '400 invalid_events'],
  ['unknown type', `/ws?secret=${S}&events=${G},GROUP_AT_MESSAGE`, {}, '400 unknown_events'],
  ['READY is no event a client can ask for', `/ws?secret=${S}&events=READY`, {}, '400 unknown_events'],
  ['hello=1', `/ws?secret=${S}&hello=1`, {}, 'events:all hello:true'],
  ['hello=true', `/ws?secret=${S}&hello=true`, {}, 'events:all hello:true'],
  ['hello=0', `/ws?secret=${S}&hello=0`, {}, 'events:all hello:false'],
  ['hello=yes', `/ws?secret=${S}&hello=yes`, {}, '400 invalid_hello'],
  ['hello twice', `/ws?secret=${S}&hello=1&hello=1`, {}, '400 invalid_hello'],
  ['filter and hello', `/ws?secret=${S}&hello=1&events=${C}`, {}, `events:${C} hello:true`],
  ['gateway mode takes neither (Identify intents filter there)', `/websocket?events=NOPE&hello=x`, {}, 'gateway'],
];

describe('parseUpgradeTarget: events= and hello=', () => {
  it.each(choiceCases)('%s: %s', (_description, url, headers, expected) => {
    expect(choices(parseUpgradeTarget({ url, headers }, { allowSecretInUrl: true }))).toBe(expected);
  });

  it('names the unknown types and lists the valid ones by intent', () => {
    const target = parseUpgradeTarget({ url: `/ws?secret=${S}&events=GROUP_AT_MESSAGE,foo`, headers: {} }, { allowSecretInUrl: true });
    expect(target).toMatchObject({
      message: expect.stringMatching(
        /unknown event types GROUP_AT_MESSAGE, FOO\. Valid event types, by intent: .*GROUP_AND_C2C_EVENT: C2C_MESSAGE_CREATE, .*GROUP_AT_MESSAGE_CREATE/,
      ),
    });
  });
});
