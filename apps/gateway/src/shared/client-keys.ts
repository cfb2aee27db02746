import type { BotDirectory } from '@hookway/bots';
import { isExpired, lookUpClientKey, type ClientKeyRecord, type ClientKeyStore } from '@hookway/keys';
import type { AppSecret } from '@hookway/protocol';

/** What a client key lets the connections it admitted do; each keeps it, and the gateway re-checks it while they last. */
export interface KeyGrant {
  /** The key's name, for logs: never the key or its hash. */
  readonly name: string;
  readonly hash: string;
  readonly appid: string;
  /** Only these event types reach the key's clients; undefined: all of the bot's events. */
  readonly events: ReadonlySet<string> | undefined;
  /** A read-only key's clients may make GET calls only (packages/keys readOnlyAllows). */
  readonly readOnly: boolean;
}

export type KeyRefusal = 'invalid_key' | 'expired_key' | 'unknown_bot';

export type KeyCheck =
  | { readonly ok: true; readonly grant: KeyGrant; readonly bot: AppSecret }
  | {
      readonly ok: false;
      readonly error: KeyRefusal;
      readonly message: string;
      /** A guess (a key that does not exist or no longer works) rather than a genuine key of an unknown bot. */
      readonly countsAsFailure: boolean;
      readonly keyName?: string;
    };

/**
 * Client keys as the gateway uses them: a presented key → the bot it is for (its AppSecret through the
 * BotDirectory: configured or learned bots) and what it may receive, or the reason it is refused. Store errors are
 * thrown (the handshake is then answered 503, and a re-check leaves connections alone).
 */
export class ClientKeys {
  constructor(
    private readonly store: ClientKeyStore,
    private readonly directory: BotDirectory,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async check(key: string): Promise<KeyCheck> {
    const found = await lookUpClientKey(this.store, key, this.nowMs());
    if (!found.ok) return refused(found.error, found.message, true, found.keyName);
    const { record } = found;
    const bot = (await this.directory.bots()).get(record.appid);
    if (!bot) {
      return refused(
        'unknown_bot',
        `the client key "${record.name}" is for bot ${record.appid}, which this Hookway does not know: add ${record.appid}:<AppSecret> ` +
          'to BOTS (or a line to BOTS_FILE) and restart, or let Hookway learn the bot from a webhook that carries X-Bot-Appid',
        false,
        record.name,
      );
    }
    return { ok: true, grant: grantOf(record), bot };
  }

  /** Whether the key still admits its clients: still in the store, not expired. Throws when the store cannot say. */
  async stillValid(grant: KeyGrant): Promise<boolean> {
    const record = await this.store.findByHash(grant.hash);
    return record !== undefined && !isExpired(record, this.nowMs());
  }
}

function grantOf(record: ClientKeyRecord): KeyGrant {
  return {
    name: record.name,
    hash: record.hash,
    appid: record.appid,
    events: record.events ? new Set(record.events) : undefined,
    readOnly: record.readOnly === true,
  };
}

function refused(error: KeyRefusal, message: string, countsAsFailure: boolean, keyName?: string): KeyCheck {
  return { ok: false, error, message, countsAsFailure, ...(keyName !== undefined ? { keyName } : {}) };
}
