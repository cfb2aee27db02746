import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileClientKeyStore, hashClientKey } from '@hookway/keys';
import { freePort } from '@hookway/testkit';
import { parseDuration } from '../src/cli/duration.ts';
import { ADD_HELP, KEYS_HELP, LIST_HELP, REVOKE_HELP } from '../src/cli/keys-command.ts';
import { HOOKWAY_HELP, runCli } from '../src/cli/run-cli.ts';

const BOT = '102000001';
const NOW = Date.UTC(2025, 0, 15, 8, 30);

/** `runCli` as `pnpm hookway` runs it, with its own keys file and settings, capturing what it writes. */
async function hookway(argv: string[], env: Record<string, string> = {}, file = keysFile(), now = NOW) {
  let stdout = '';
  let stderr = '';
  const status = await runCli(argv, {
    env: { CLIENT_KEYS_FILE: file, BOTS: `${BOT}:DG5g3B4j9X2KOErG`, ...env },
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    nowMs: () => now,
  });
  return { status, stdout, stderr, file };
}
const keysFile = () => join(mkdtempSync(join(tmpdir(), 'hookway-cli-')), 'keys.json');

describe('pnpm hookway keys add', () => {
  it('creates a key, prints it once on stdout alone, and stores only its hash', async () => {
    const { status, stdout, stderr, file } = await hookway([
      'keys',
      'add',
      '--bot',
      BOT,
      '--name',
      'home-pc',
      '--events',
      'c2c_message_create, GROUP_AT_MESSAGE_CREATE,C2C_MESSAGE_CREATE',
      '--expires',
      '30d',
    ]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^hwk_[A-Za-z0-9_-]{43}\n$/);
    const key = stdout.trim();
    expect(stderr).toContain('Created client key "home-pc" for bot 102000001');
    expect(stderr).toContain('events: C2C_MESSAGE_CREATE,GROUP_AT_MESSAGE_CREATE; expires: 2025-02-14 08:30Z');
    expect(stderr).toMatch(/Connect: ws:\/\/<this server>:8000\/ws with the header "Authorization: Bearer <key>"/);
    expect(stderr).not.toContain(key);
    expect(stderr).not.toContain('warning');
    expect(await new FileClientKeyStore(file).findByHash(hashClientKey(key))).toEqual({
      name: 'home-pc',
      appid: BOT,
      hash: hashClientKey(key),
      events: ['C2C_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE'],
      expiresAtMs: NOW + 30 * 24 * 3600_000,
      createdAtMs: NOW,
    });
  });

  it('points the hint at PUBLIC_URL when it is set', async () => {
    const { stderr } = await hookway(['keys', 'add', '--bot', BOT, '--name', 'a'], { PUBLIC_URL: 'https://bot.example.com' });
    expect(stderr).toContain('Connect: wss://bot.example.com/ws with the header');
  });

  it('warns, but creates the key, when the bot is not among BOTS or BOTS_FILE', async () => {
    const botsFile = join(mkdtempSync(join(tmpdir(), 'hookway-bots-')), 'bots.txt');
    writeFileSync(botsFile, '102000002:naOC0ocQE3shWLAfffVLB1rhYPG7\n');
    const inFile = await hookway(['keys', 'add', '--bot', '102000002', '--name', 'a'], { BOTS_FILE: botsFile });
    expect(inFile.stderr).not.toContain('warning');
    const unknown = await hookway(['keys', 'add', '--bot', '102000003', '--name', 'a']);
    expect(unknown.status).toBe(0);
    expect(unknown.stdout).toMatch(/^hwk_/);
    expect(unknown.stderr).toMatch(
      /warning: bot 102000003 is not in BOTS or BOTS_FILE: its clients get 401 unknown_bot until you add 102000003:<AppSecret>/,
    );
  });

  it('refuses a name that is taken (exit 1) and leaves the first key alone', async () => {
    const first = await hookway(['keys', 'add', '--bot', BOT, '--name', 'home-pc']);
    const second = await hookway(['keys', 'add', '--bot', BOT, '--name', 'home-pc'], {}, first.file);
    expect(second).toMatchObject({ status: 1, stdout: '' });
    expect(second.stderr).toBe(
      'hookway keys add: a key named "home-pc" exists already: choose another name, or revoke it first (pnpm hookway keys revoke home-pc)\n',
    );
    expect(await new FileClientKeyStore(first.file).findByHash(hashClientKey(first.stdout.trim()))).toBeDefined();
  });

  it.each([
    [['--name', 'a'], '--bot <appid> is required'],
    [['--bot', BOT], '--name <name> is required'],
    [['--bot', 'abc', '--name', 'a'], '--bot abc is not an appid (1–20 digits)'],
    [['--bot', BOT, '--name', '.dot'], '--name ".dot" is not a key name: 1–64 of A-Z a-z 0-9 . _ -'],
    [
      ['--bot', BOT, '--name', 'a', '--events', 'FOO,C2C_MESSAGE_CREATE,bar'],
      'unknown event types FOO, BAR. Valid event types, by intent:',
    ],
    [['--bot', BOT, '--name', 'a', '--events', ' , '], '--events needs at least one event type'],
    [
      ['--bot', BOT, '--name', 'a', '--expires', '30x'],
      '--expires "30x" is not a duration: a whole number of days, hours or minutes, e.g. 30d, 12h, 90m',
    ],
    [['--bot', BOT, '--name', 'a', '--expires', '0d'], '--expires "0d" is not a duration'],
    [['--bot', BOT, '--name', 'a', '--frob'], 'unknown option --frob'],
    [['--bot'], '--bot needs a value'],
    [['--bot', BOT, '--name', 'a', 'extra'], 'unexpected argument extra'],
  ])('refuses %j (exit 2): %s', async (args, problem) => {
    const { status, stdout, stderr, file } = await hookway(['keys', 'add', ...args]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`hookway keys add: ${problem}`);
    expect(stderr).toContain('(see pnpm hookway keys add --help)');
    expect(await new FileClientKeyStore(file).list()).toEqual([]);
  });

  it('lists every valid event type, from the intents table, when one is unknown', async () => {
    const { stderr } = await hookway(['keys', 'add', '--bot', BOT, '--name', 'a', '--events', 'GROUP_MESSAGE']);
    expect(stderr).toContain('  GROUP_AND_C2C_EVENT: C2C_MESSAGE_CREATE, FRIEND_ADD,');
    expect(stderr).toContain('  PUBLIC_GUILD_MESSAGES: AT_MESSAGE_CREATE, PUBLIC_MESSAGE_DELETE');
  });
});

describe('pnpm hookway keys list and revoke', () => {
  it('lists name, bot, events, expiry and creation, never a key or hash; revoke removes one', async () => {
    const a = await hookway(['keys', 'add', '--bot', BOT, '--name', 'home-pc', '--events', 'C2C_MESSAGE_CREATE', '--expires', '12h']);
    const b = await hookway(['keys', 'add', '--bot', BOT, '--name', 'ci', '--read-only'], {}, a.file, NOW + 60_000);
    expect(b.stderr).toContain('calls: read-only)');
    expect(await new FileClientKeyStore(a.file).findByHash(hashClientKey(b.stdout.trim()))).toMatchObject({ name: 'ci', readOnly: true });
    const list = await hookway(['keys', 'list'], {}, a.file);
    expect(list.status).toBe(0);
    expect(list.stdout).toBe(
      `2 client keys in ${a.file}:\n` +
        'NAME     BOT        EVENTS              CALLS      EXPIRES            CREATED\n' +
        'home-pc  102000001  C2C_MESSAGE_CREATE  all        2025-01-15 20:30Z  2025-01-15 08:30Z\n' +
        'ci       102000001  all                 read-only  never              2025-01-15 08:31Z\n',
    );
    for (const key of [a.stdout.trim(), b.stdout.trim()]) {
      expect(list.stdout + list.stderr).not.toContain(key.slice(4));
      expect(list.stdout + list.stderr).not.toContain(hashClientKey(key));
    }
    const revoke = await hookway(['keys', 'revoke', 'home-pc'], {}, a.file);
    expect(revoke).toMatchObject({ status: 0, stdout: '' });
    expect(revoke.stderr).toContain('Revoked client key "home-pc"');
    expect((await hookway(['keys', 'list'], {}, a.file)).stdout).not.toContain('home-pc');
  });

  it('marks expired keys in the list', async () => {
    const { file } = await hookway(['keys', 'add', '--bot', BOT, '--name', 'old', '--expires', '90m']);
    let stdout = '';
    await runCli(['keys', 'list'], {
      env: { CLIENT_KEYS_FILE: file },
      stdout: (t) => (stdout += t),
      stderr: () => {},
      nowMs: () => NOW + 91 * 60_000,
    });
    expect(stdout).toContain('2025-01-15 10:00Z (expired)');
  });

  it('says how to create a key when there is none', async () => {
    const { status, stdout } = await hookway(['keys', 'list']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^No client keys in .*keys\.json\. Create one: pnpm hookway keys add --bot <appid> --name <name>\n$/);
  });

  it('refuses to revoke a name it does not have (exit 1), and a missing or extra name (exit 2)', async () => {
    const unknown = await hookway(['keys', 'revoke', 'nope']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^hookway keys revoke: no key named "nope" in .* \(pnpm hookway keys list shows them\)\n$/);
    expect(await hookway(['keys', 'revoke'])).toMatchObject({ status: 2, stderr: expect.stringContaining('<name> is required') });
    expect(await hookway(['keys', 'revoke', 'a', 'b'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unexpected argument b'),
    });
  });
});

describe('pnpm hookway', () => {
  it.each([
    [['--help'], HOOKWAY_HELP],
    [['keys', '--help'], KEYS_HELP],
    [['keys', 'add', '--help'], ADD_HELP],
    [['keys', 'list', '-h'], LIST_HELP],
    [['keys', 'revoke', '--help'], REVOKE_HELP],
  ])('%j prints its help (exit 0)', async (argv, text) => {
    expect(await hookway(argv)).toMatchObject({ status: 0, stdout: text, stderr: '' });
  });

  it('answers no command, an unknown command or subcommand with the usage on stderr (exit 2)', async () => {
    expect(await hookway([])).toMatchObject({ status: 2, stdout: '', stderr: HOOKWAY_HELP });
    expect(await hookway(['frob'])).toMatchObject({ status: 2, stderr: `hookway: unknown command frob\n\n${HOOKWAY_HELP}` });
    expect(await hookway(['keys'])).toMatchObject({ status: 2, stderr: KEYS_HELP });
    expect(await hookway(['keys', 'frob'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('unknown subcommand frob: use add, list or revoke'),
    });
  });

  it('reports a bad setting (exit 1) without repeating a sensitive value', async () => {
    const { status, stderr } = await hookway(['keys', 'list'], { BOTS: 'not-a-bot-list-Secret123' });
    expect(status).toBe(1);
    expect(stderr).toContain('BOTS=(value hidden)');
    expect(stderr).not.toContain('Secret123');
  });

  it('says when Redis cannot be reached, without its password, and changes nothing (exit 1)', async () => {
    const url = `redis://:hunter2pw@127.0.0.1:${await freePort()}`;
    const { status, stderr } = await hookway(['keys', 'add', '--bot', BOT, '--name', 'a'], { REDIS_URL: url });
    expect(status).toBe(1);
    expect(stderr).toMatch(/^hookway keys: cannot reach Redis at 127\.0\.0\.1:\d+ \(REDIS_URL\) within 5 s; nothing was changed\n$/);
    expect(stderr).not.toContain('hunter2pw');
  });
});

describe('--expires durations', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['3650d', 3650 * 86_400_000],
    [' 1d ', 86_400_000],
    ['0d', undefined],
    ['3651d', undefined],
    ['1.5d', undefined],
    ['30', undefined],
    ['30s', undefined],
    ['30D', undefined],
    ['-1d', undefined],
    ['', undefined],
  ])('%j → %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
