import { describe, expect, it } from 'vitest';
import type { AppSecret } from '@hookway/protocol';
import { groupAtMessage, RawHttpConnection } from '@hookway/testkit';
import { ingressFixture, SECRET } from './harness.ts';
import { V1_SIGNATURE } from './vectors.ts';

const { start } = ingressFixture();
const APPID = '102000001';
const OTHER = { appid: '102000002', secret: 'naOC0ocQE3shWLAfffVLB1rhYPG7' };
const configured = { [APPID]: SECRET, [OTHER.appid]: OTHER.secret };
const appid = (id: string) => ({ 'x-bot-appid': id });

describe('POST /webhook without a secret in the URL', () => {
  it.each(['/webhook', '/webhook/'])('answers op 13 for the bot named by X-Bot-Appid (%s)', async (path) => {
    const r = await start({}, { configured });
    const res = await r
      .sender()
      .post(JSON.stringify({ d: { plain_token: 'Arq0D5A61EgUu4OxUvOp', event_ts: '1725442341' }, op: 13 }), appid(APPID), path);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ plain_token: 'Arq0D5A61EgUu4OxUvOp', signature: V1_SIGNATURE });
    expect(r.ingress.stats()).toMatchObject({ webhooksValidated: 1 });
  });

  it('verifies op 0 with that bot’s secret and publishes it under that bot', async () => {
    const learnt: string[] = [];
    const r = await start({}, { configured, learnBot: async (id: string, _s: AppSecret) => Boolean(learnt.push(id)) });
    const [mine, theirs] = [groupAtMessage(), groupAtMessage()];
    expect((await r.sender(SECRET).dispatch(mine, { path: '/webhook', headers: appid(APPID) })).status).toBe(200);
    expect((await r.sender(OTHER.secret).dispatch(theirs, { path: '/webhook', headers: appid(OTHER.appid) })).status).toBe(200);
    expect(await r.accepted(SECRET)).toEqual([mine]);
    expect(await r.accepted(OTHER.secret)).toEqual([theirs]);
    // A configured bot is known already: nothing to learn.
    expect(learnt).toEqual([]);
  });

  it('refuses op 0 signed with another bot’s secret (401), publishing nothing', async () => {
    const r = await start({}, { configured });
    const res = await r.sender(OTHER.secret).dispatch(groupAtMessage(), { path: '/webhook', headers: appid(APPID) });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'bad_signature' });
    expect([await r.accepted(SECRET), await r.accepted(OTHER.secret)]).toEqual([[], []]);
  });

  it.each([
    ['no X-Bot-Appid', {}, /has none/],
    ['an appid that is not configured', appid('102000003'), /no bot with this X-Bot-Appid is configured/],
    ['an appid that is not one', appid('../../etc'), /no bot with this X-Bot-Appid is configured/],
    ['an empty appid', appid(''), /has none/],
  ])('answers %s with 404 unknown_bot, saying how to configure BOTS, and publishes nothing', async (_case, headers, reason) => {
    const r = await start({}, { configured });
    const res = await r.sender().dispatch(groupAtMessage(), { path: '/webhook', headers });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({
      error: 'unknown_bot',
      message: expect.stringMatching(new RegExp(`${reason.source}.*BOTS=appid:secret.*BOTS_FILE`)) as unknown,
    });
    expect(await r.accepted()).toEqual([]);
    expect(r.ingress.stats()).toMatchObject({ webhooksUnknownBot: 1, webhooksAccepted: 0 });
  });

  it('is no signing oracle: op 13 never signs bytes that could pass for an event (op 13 and op 0 share one key)', async () => {
    const r = await start({}, { configured });
    // Anyone who knows the appid can call op 13. Asked to sign event_ts ‖ plain_token = timestamp ‖ body, a naive
    // answer is a valid op 0 signature for a body of the caller's choosing.
    const forged = groupAtMessage();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const oracle = await r
      .sender()
      .post(JSON.stringify({ op: 13, d: { plain_token: forged, event_ts: timestamp } }), appid(APPID), '/webhook');
    expect(oracle.status).toBe(400);
    expect(oracle.json()).toMatchObject({ error: 'invalid_validation_request', message: expect.stringMatching(/\{/) as unknown });
    const signature = oracle.status === 200 ? oracle.json<{ signature: string }>().signature : 'f'.repeat(128);
    const res = await r.sender().dispatch(forged, { path: '/webhook', headers: appid(APPID), timestamp, signature });
    expect(res.status).toBe(401);
    expect(await r.accepted()).toEqual([]);
  });

  it('picks only configured bots (a bot learned from X-Bot-Appid does not count)', async () => {
    const r = await start({}, { configured: {} });
    expect((await r.sender().validate('t', '1', '/webhook')).status).toBe(404);
  });
});

describe('ALLOW_SECRET_IN_URL', () => {
  it.each([`/webhook?secret=${SECRET}`, `/webhook/${SECRET}`, '/webhook?secret=', '/webhook/abc'])(
    'false: refuses %s with 403 naming the replacement, before reading the body',
    async (path) => {
      const r = await start({ allowSecretInUrl: false }, { configured });
      // The body is declared but never sent: the answer cannot have waited for it.
      const client = await RawHttpConnection.open(r.port);
      await client.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
      await client.closed;
      expect(client.answer()).toEqual({
        status: 403,
        body: {
          error: 'secret_in_url_refused',
          message: expect.stringMatching(/ALLOW_SECRET_IN_URL=false.*https:\/\/<your host>\/webhook.*BOTS=appid:secret/) as unknown,
        },
      });
      expect(client.received).not.toContain(SECRET);
      expect(r.ingress.stats()).toMatchObject({ webhooksSecretInUrlRefused: 1 });
      expect(r.logs.join('')).not.toContain(SECRET);
    },
  );

  it('false: the secretless form still works', async () => {
    const r = await start({ allowSecretInUrl: false }, { configured });
    const body = groupAtMessage();
    expect((await r.sender().dispatch(body, { path: '/webhook', headers: appid(APPID) })).status).toBe(200);
    expect(await r.accepted()).toEqual([body]);
  });

  it('true (the default): ?secret= and /webhook/S keep working beside the secretless form', async () => {
    const r = await start({}, { configured });
    const bodies = [groupAtMessage(), groupAtMessage(), groupAtMessage()];
    expect((await r.sender().dispatch(bodies[0]!)).status).toBe(200);
    expect((await r.sender().dispatch(bodies[1]!, { path: `/webhook/${SECRET}` })).status).toBe(200);
    expect((await r.sender().dispatch(bodies[2]!, { path: '/webhook', headers: appid(APPID) })).status).toBe(200);
    expect(await r.accepted()).toEqual(bodies);
  });
});
