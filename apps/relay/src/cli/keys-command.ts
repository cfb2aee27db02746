import { APPID_PATTERN, isExpired, KEY_NAME_PATTERN, KEY_NAME_RULE, newClientKey, type ClientKeyRecord } from '@hookway/keys';
import { describeEventTypes, parseEventList } from '@hookway/protocol';
import { ConfigError, loadConfig, redisMode, type Config } from '@hookway/runtime';
import { CommandFailed, EXIT, parseCommandArgs, UsageError, type CliCommand, type CliIo } from './command.ts';
import { parseDuration } from './duration.ts';
import { HOOKWAY } from './invocation.ts';
import { openCommandKeyStore, type CommandKeyStore } from './key-store.ts';

export const KEYS_HELP = `Usage: ${HOOKWAY} keys <add|list|revoke> …

Client keys let a client receive one bot's events without its AppSecret.
  ${HOOKWAY} keys add --bot <appid> --name <name> [--events A,B] [--expires 30d]
  ${HOOKWAY} keys list
  ${HOOKWAY} keys revoke <name>

Keys live in Redis when REDIS_URL is set (every replica sees them), else in CLIENT_KEYS_FILE
(default hookway-keys.json). Running relays pick up changes; revoking a key closes its
connections within 5 s. Details: ${HOOKWAY} keys <add|list|revoke> --help
`;

export const ADD_HELP = `Usage: ${HOOKWAY} keys add --bot <appid> --name <name> [--events A,B] [--expires <n>d|<n>h|<n>m] [--read-only]

Creates a client key for one bot and prints it once; only its SHA-256 is stored.
  --bot <appid>    the bot whose events the key's clients receive (one of BOTS or BOTS_FILE)
  --name <name>    unique, shown in logs and used to revoke: ${KEY_NAME_RULE}
  --events A,B     only these event types, e.g. C2C_MESSAGE_CREATE,GROUP_AT_MESSAGE_CREATE (default: all)
  --expires 30d    the key stops working after this many days (d), hours (h) or minutes (m) (default: never)
  --read-only      the key's clients receive events and may read (GET calls) but never act: no message sent,
                   recalled or acknowledged in the bot's name (other calls get forbidden / HTTP 403)

The key goes to standard output, alone on its line; everything else goes to standard error.
`;

export const LIST_HELP = `Usage: ${HOOKWAY} keys list

Lists the client keys: name, bot, events, expiry and creation time (never a key or its hash).
`;

export const REVOKE_HELP = `Usage: ${HOOKWAY} keys revoke <name>

Deletes the key. Its clients are refused from now on, and those connected are closed within 5 s
(raw mode: close code 4102; gateway mode: op 9, then 4004).
`;

/** `pnpm hookway keys …`: create, list and revoke client keys in the store the relay uses with the same settings. */
export const keysCommand: CliCommand = {
  name: 'keys',
  summary: `create, list and revoke client keys (${HOOKWAY} keys --help)`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined) {
      io.stderr(KEYS_HELP);
      return EXIT.usage;
    }
    if (sub === '--help' || sub === '-h' || sub === 'help') return help(io, KEYS_HELP);
    const subcommand = SUBCOMMANDS[sub];
    if (!subcommand) throw new UsageError(`unknown subcommand ${sub}: use add, list or revoke`, 'keys');
    return subcommand(rest, io);
  },
};

const SUBCOMMANDS: Record<string, (args: readonly string[], io: CliIo) => Promise<number>> = {
  async add(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        bot: { type: 'string' },
        name: { type: 'string' },
        events: { type: 'string' },
        expires: { type: 'string' },
        'read-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      'keys add',
    );
    if (values.help) return help(io, ADD_HELP);
    const appid = required(values.bot, '--bot <appid>', 'keys add');
    if (!APPID_PATTERN.test(appid)) throw new UsageError(`--bot ${appid} is not an appid (1–20 digits)`, 'keys add');
    const name = required(values.name, '--name <name>', 'keys add');
    if (!KEY_NAME_PATTERN.test(name))
      throw new UsageError(`--name ${JSON.stringify(name)} is not a key name: ${KEY_NAME_RULE}`, 'keys add');
    const events = values.events === undefined ? undefined : parseEvents(values.events);
    const expiresInMs = values.expires === undefined ? undefined : parseExpiry(values.expires);

    const config = settings(io);
    return withKeys(config, async (keys) => {
      const { key, hash } = newClientKey();
      const createdAtMs = io.nowMs();
      const record: ClientKeyRecord = {
        name,
        appid,
        hash,
        ...(events ? { events } : {}),
        ...(expiresInMs !== undefined ? { expiresAtMs: createdAtMs + expiresInMs } : {}),
        ...(values['read-only'] ? { readOnly: true as const } : {}),
        createdAtMs,
      };
      if (!(await keys.store.add(record))) {
        throw new CommandFailed(
          `a key named "${name}" exists already: choose another name, or revoke it first (${HOOKWAY} keys revoke ${name})`,
          'keys add',
        );
      }
      const known = await keys.knownBots();
      for (const problem of known.problems) io.stderr(`warning: ${problem}\n`);
      if (!known.appids.has(appid)) {
        io.stderr(
          `warning: bot ${appid} is not in BOTS or BOTS_FILE${redisMode(config) !== 'none' ? ' (nor learned from a webhook)' : ''}: ` +
            `its clients get 401 unknown_bot until you add ${appid}:<AppSecret> to BOTS or BOTS_FILE and restart\n`,
        );
      }
      io.stderr(
        `Created client key "${name}" for bot ${appid} (events: ${events ? events.join(',') : 'all'}; ` +
          `expires: ${record.expiresAtMs !== undefined ? time(record.expiresAtMs) : 'never'}; calls: ${callsOf(record)}) in ${keys.where}.\n` +
          'This is the only time it is shown:\n',
      );
      io.stdout(`${key}\n`);
      io.stderr(`${connectHint(config)}\n`);
      return EXIT.ok;
    });
  },

  async list(args, io) {
    const { values } = parseCommandArgs(args, { help: { type: 'boolean', short: 'h' } }, 'keys list');
    if (values.help) return help(io, LIST_HELP);
    return withKeys(settings(io), async (keys) => {
      const records = await keys.store.list();
      if (records.length === 0) {
        io.stdout(`No client keys in ${keys.where}. Create one: ${HOOKWAY} keys add --bot <appid> --name <name>\n`);
        return EXIT.ok;
      }
      const now = io.nowMs();
      const rows = records.map((r) => [
        r.name,
        r.appid,
        r.events ? r.events.join(',') : 'all',
        callsOf(r),
        r.expiresAtMs === undefined ? 'never' : `${time(r.expiresAtMs)}${isExpired(r, now) ? ' (expired)' : ''}`,
        time(r.createdAtMs),
      ]);
      io.stdout(`${records.length} client key${records.length === 1 ? '' : 's'} in ${keys.where}:\n`);
      io.stdout(table([['NAME', 'BOT', 'EVENTS', 'CALLS', 'EXPIRES', 'CREATED'], ...rows]));
      return EXIT.ok;
    });
  },

  async revoke(args, io) {
    const { values, positionals } = parseCommandArgs(args, { help: { type: 'boolean', short: 'h' } }, 'keys revoke', 1);
    if (values.help) return help(io, REVOKE_HELP);
    const name = required(positionals[0], '<name>', 'keys revoke');
    return withKeys(settings(io), async (keys) => {
      if (!(await keys.store.revoke(name))) {
        throw new CommandFailed(`no key named "${name}" in ${keys.where} (${HOOKWAY} keys list shows them)`, 'keys revoke');
      }
      io.stderr(`Revoked client key "${name}": it is refused from now on, and its connections close within 5 s.\n`);
      return EXIT.ok;
    });
  },
};

function help(io: CliIo, text: string): number {
  io.stdout(text);
  return EXIT.ok;
}

function required(value: string | undefined, what: string, command: string): string {
  if (value === undefined || value === '') throw new UsageError(`${what} is required`, command);
  return value;
}

/** Comma-separated event types (the rule is parseEventList's); the valid ones listed otherwise. */
function parseEvents(text: string): string[] {
  const parsed = parseEventList(text);
  if (parsed.ok) return parsed.events;
  if (parsed.problem === 'empty') throw new UsageError('--events needs at least one event type', 'keys add');
  const { unknown } = parsed;
  throw new UsageError(
    `unknown event type${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}. Valid event types, by intent:\n${describeEventTypes('\n').replace(/^/gm, '  ')}`,
    'keys add',
  );
}

function parseExpiry(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(
      `--expires ${JSON.stringify(text)} is not a duration: a whole number of days, hours or minutes, e.g. 30d, 12h, 90m (at most 3650d)`,
      'keys add',
    );
  }
  return ms;
}

/** The relay's settings, from the same environment variables. */
function settings(io: CliIo): Config {
  try {
    return loadConfig(io.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandFailed(err.message);
    throw err;
  }
}

async function withKeys(config: Config, work: (keys: CommandKeyStore) => Promise<number>): Promise<number> {
  const keys = await openCommandKeyStore(config);
  try {
    return await work(keys);
  } finally {
    await keys.close();
  }
}

/** One line: where and how a client connects with the key (the key itself is printed only once, above). */
function connectHint(config: Config): string {
  const base = config.publicUrl !== '' ? config.publicUrl.replace(/^http/, 'ws') : `ws://<this server>:${config.port}`;
  return (
    `Connect: ${base}/ws with the header "Authorization: Bearer <key>" (or ${base}/ws?key=<key>); ` +
    `gateway-mode SDKs: ${base}/websocket?key=<key>, or the key as their token.`
  );
}

const time = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(
      (row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}

/** What a key's clients may call through Hookway: everything, or GET only. */
function callsOf(record: Pick<ClientKeyRecord, 'readOnly'>): string {
  return record.readOnly ? 'read-only' : 'all';
}
