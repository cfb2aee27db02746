import { describe, expect, it } from 'vitest';
import { AppSecret } from '@hookway/protocol';
import { carriesSecret, OPENAPI_PATHS, openApiPath, routeHint } from '../src/routes.ts';

const S = 'DG5g3B4j9X2KOErG';
const known = [AppSecret.of(S), AppSecret.of('LearnedSecret0009')];

describe('the OpenAPI path table', () => {
  it.each<[string, string | undefined]>([
    // What the reference docs and the SDKs call (qq-protocol §3.2, §5; sdk-clients §3–4; botgo resource.go).
    ['/gateway', 'discovery'],
    ['/gateway/bot', 'discovery'],
    ['/app/getAppAccessToken', 'token'],
    ['/v2/groups/C9F778FE/messages', 'api'],
    ['/v2/users/E4F4AEA3/messages', 'api'],
    ['/v2/users/E4F4AEA3/files', 'api'],
    ['/v2/groups/C9F778FE/messages/ROBOT1.0_x', 'api'],
    ['/channels/100010/messages', 'api'],
    ['/channels/100010/messages/08ef/reactions/1/4', 'api'],
    ['/channels/100010', 'api'],
    ['/dms/18700000000001/messages', 'api'],
    ['/interactions/30540ff7-9d8f-4737-83f1-e116ce6afa8b', 'api'],
    ['/guilds/18700000000001/members/42', 'api'],
    ['/users/@me', 'api'],
    ['/users/@me/guilds', 'api'],
    ['/users/@me/dms', 'api'],
    // Everything else stays on the server: the examples, bare prefixes, other cases, near misses.
    ['/', undefined],
    ['/webhok', undefined],
    ['/Webhook/S', undefined],
    ['/webhook/S/x', undefined],
    ['/ws/S/x', undefined],
    ['/wp-login.php', undefined],
    ['/metrics', undefined],
    ['/v2', undefined],
    ['/v2/', undefined],
    ['/V2/groups/x/messages', undefined],
    ['/v2x/groups', undefined],
    ['/channelsx/1', undefined],
    ['/users/123', undefined],
    ['/users/@mex', undefined],
    ['/gateway/bot/x', undefined],
    ['/gateway/webhook/sessions', undefined],
    ['/app/getAppAccessToken/x', undefined],
    ['/app/other', undefined],
    ['/healthz', undefined],
  ])('%s → %s', (path, route) => {
    expect(openApiPath(path)?.route).toBe(route);
  });

  it('says where each entry is documented', () => {
    for (const entry of OPENAPI_PATHS) expect(entry.source, entry.path).toMatch(/qq-protocol|sdk-clients|botgo/);
  });
});

describe('carriesSecret', () => {
  it.each<[string, boolean]>([
    ['/v2/groups/C9F778FE/messages', false],
    ['/channels/1/messages?hidetip=1', false],
    [`/v2/groups/${S}/messages`, true],
    [`/channels/1/messages?x=${S}`, true],
    ['/channels/1/messages?secret=anything', true],
    ['/channels/1/messages?secret=', true],
    ['/channels/1/messages?SeCrEt=x', true],
    ['/channels/1/messages?a=1&secret=x', true],
    [`/v2/users/${encodeURIComponent(S).replace('D', '%44')}/messages`, true],
    ['/users/@me/guilds?before=LearnedSecret0009', true],
    ['/channels/1/messages?secretary=x', false],
    ['/v2/users/%ZZ/messages', false],
  ])('%s → %s', (target, expected) => {
    expect(carriesSecret(target, known)).toBe(expected);
  });
});

describe('routeHint', () => {
  it.each<[string, 'webhook' | 'ws' | undefined]>([
    ['/webhok', 'webhook'],
    ['/Webhook/S', 'webhook'],
    ['/WEBHOOK', 'webhook'],
    ['/webhook/S/x', 'webhook'],
    ['/webhooks', 'webhook'],
    ['/wehbook', 'webhook'],
    ['/qq/webhook', 'webhook'],
    ['/ws/S/x', 'ws'],
    ['/WS', 'ws'],
    ['/wss/S', 'ws'],
    ['/websockets', 'ws'],
    ['/websocket/x', 'ws'],
    ['/', undefined],
    ['/wp-login.php', undefined],
    ['/metrics', undefined],
    ['/hook', undefined],
    ['/web', undefined],
    ['/w', undefined],
    [`/${'w'.repeat(5000)}`, undefined],
    ['/%ZZ', undefined],
  ])('%s → %s', (path, kind) => {
    const hint = routeHint(path);
    if (kind === undefined) expect(hint).toBeUndefined();
    else expect(hint).toMatch(kind === 'webhook' ? /POST \/webhook\b.*BOTS=appid:secret/ : /exactly \/ws \(raw mode\) or \/websocket/);
  });
});
