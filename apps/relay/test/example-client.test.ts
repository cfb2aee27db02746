import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '@hookway/runtime';
import { groupAtMessage, until, WsCollector } from '@hookway/testkit';
import { SECRET, testStores, startRelay, type RunningRelay } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const EXAMPLE = `${ROOT}examples/raw-client.mjs`;
const README = readFileSync(`${ROOT}README.md`, 'utf8');

const relays: RunningRelay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.close();
});

describe('the README’s Node client example', () => {
  it('is in the README verbatim, in both languages', () => {
    const code = readFileSync(EXAMPLE, 'utf8').trim();
    expect(code.split('\n').length).toBeLessThanOrEqual(20);
    expect(README.split(code).length - 1).toBe(2);
  });

  it('receives events, and after its connection drops resumes with after and misses nothing', async () => {
    const stores = testStores();
    const first = await startRelay({}, { stores });
    relays.push(first);
    const port = Number(new URL(first.baseUrl).port);
    const child = spawn(process.execPath, [EXAMPLE], {
      env: { ...process.env, HOOKWAY_URL: `ws://127.0.0.1:${port}/ws?secret=${SECRET}` },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await until(() => first.relay.gateway.stats().connections === 1, 'the example to connect');
      const contents = ['one', 'two', 'three', 'four'];
      for (const content of contents.slice(0, 2)) await first.sender().dispatch(groupAtMessage({ content }));
      await until(() => stdout.split('\n').filter(Boolean).length === 2, 'two events printed');

      await first.close();
      relays.splice(relays.indexOf(first), 1);
      const second = await startRelay({}, { stores, port });
      relays.push(second);
      // Another client takes events 3 and 4 first, so they count as delivered: only `after` can bring them back.
      const other = await WsCollector.connect(second.wsUrl(`/ws?secret=${SECRET}`));
      for (const content of contents.slice(2)) await second.sender().dispatch(groupAtMessage({ content }));
      await other.waitForFrames(2);

      await until(() => stdout.split('\n').filter(Boolean).length === 4, 'four events printed');
      const printed = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)).content);
      expect(printed).toEqual(contents);
      expect(
        stdout
          .trim()
          .split('\n')
          .every((line) => line.startsWith('GROUP_AT_MESSAGE_CREATE ')),
      ).toBe(true);
      expect(stderr).toBe('');
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
