import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '@hookway/runtime';
import { FakeQqPlatform, groupAtMessage, until, WsCollector } from '@hookway/testkit';
import { SECRET, testStores, startRelay, type RunningRelay } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const BOT = { appid: '102000001', secret: SECRET, userId: '6158788878435714165', username: '测试机器人' };

/** The README's clients: each is run for real against a relay and the fake platform. */
const CLIENTS = [
  { name: 'Node', file: 'examples/raw-client.mjs', command: process.execPath, maxLines: 25 },
  { name: 'Python', file: 'examples/python/raw_client.py', command: 'python3', maxLines: 40 },
];

const relays: RunningRelay[] = [];
let platform: FakeQqPlatform;
beforeEach(async () => {
  platform = await new FakeQqPlatform([BOT]).start();
});
afterEach(async () => {
  for (const r of relays.splice(0)) await r.close();
  await platform.stop();
});

describe.each(CLIENTS)('the README’s $name client example', ({ name, file, command, maxLines }) => {
  const path = `${ROOT}${file}`;

  it('is in the README verbatim, in both languages', () => {
    const code = readFileSync(path, 'utf8').trim();
    expect(code.split('\n').length).toBeLessThanOrEqual(maxLines);
    expect(README.split(code).length - 1).toBe(2);
  });

  it('receives @-messages, replies to each through the socket, and after its connection drops resumes with after and misses nothing', async () => {
    if (name === 'Python' && spawnSync('python3', ['-c', 'import websocket']).status !== 0) {
      throw new Error('the Python example needs websocket-client: python3 -m pip install websocket-client (.ci/run does)');
    }
    const stores = testStores();
    const settings = { bots: new Map([[BOT.appid, SECRET]]), qqApiBase: platform.baseUrl, qqTokenUrl: platform.tokenUrl };
    const first = await startRelay(settings, { stores });
    relays.push(first);
    const port = Number(new URL(first.baseUrl).port);
    const child = spawn(command, [path], {
      env: { ...process.env, PYTHONUNBUFFERED: '1', HOOKWAY_URL: `ws://127.0.0.1:${port}/ws?secret=${SECRET}` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const lines = (prefix: string) =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .map((line) => line.slice(prefix.length));
    try {
      await until(() => first.relay.gateway.stats().connections === 1, 'the example to connect');
      const contents = ['one', 'two', 'three', 'four'];
      const bodies = contents.map((content) => groupAtMessage({ content: ` ${content}` }));
      for (const body of bodies.slice(0, 2)) await first.sender().dispatch(body);
      await until(
        () => lines('reply ').length === 2,
        () => `two replies printed:\n${stdout}${stderr}`,
      );

      await first.close();
      relays.splice(relays.indexOf(first), 1);
      const second = await startRelay(settings, { stores, port });
      relays.push(second);
      // Another client takes events 3 and 4 first, so they count as delivered: only `after` can bring them back.
      const other = await WsCollector.connect(second.wsUrl(`/ws?secret=${SECRET}`));
      for (const body of bodies.slice(2)) await second.sender().dispatch(body);
      await other.waitForFrames(2);

      await until(
        () => lines('reply ').length === 4,
        () => `four replies printed:\n${stdout}${stderr}`,
      );
      const printed = lines('GROUP_AT_MESSAGE_CREATE ').map((json) => (JSON.parse(json) as { content: string }).content);
      expect(printed).toEqual(contents.map((c) => ` ${c}`));
      const events = bodies.map((b) => JSON.parse(b) as { id: string; d: { id: string; group_openid: string } });
      // Each reply's result carries the call's id (the event's id) and the platform's status. Calls run concurrently
      // (the first two wait for one token), so their results and the platform's requests come in any order.
      expect([...lines('reply ')].sort()).toEqual(events.map((e) => `${e.id} 200`).sort());
      const replies = platform.calls.filter((c) => c.method === 'POST' && c.path.startsWith('/v2/groups/'));
      expect(replies).toHaveLength(events.length);
      expect(replies.map((c) => [c.path, c.body, c.authorization])).toEqual(
        expect.arrayContaining(
          events.map((e, i) => [
            `/v2/groups/${e.d.group_openid}/messages`,
            { msg_type: 0, content: `收到：${contents[i]}`, msg_id: e.d.id, msg_seq: 1 },
            `QQBot ${platform.tokenOf(BOT.appid)}`,
          ]),
        ),
      );
      if (name === 'Node') expect(stderr).toBe('');
      else expect(stderr).not.toContain('Traceback');
      other.close();
    } finally {
      child.kill();
      await stores.events.close();
    }
  });
});

describe('the README', () => {
  it.each(Object.entries(SETTINGS))('documents %s with its default, in both languages', (name, setting) => {
    const rows = README.split('\n').filter((line) => line.startsWith(`| \`${name}\``));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toContain(`\`${setting.default}\``);
  });
});
