import type { AppSecret } from '@hookway/protocol';
import { META_TTL_MS, redisKeys, type RedisConnection, type StoreBackend } from '@hookway/redis';

/**
 * What Hookway has seen of one bot at its webhook: enough for a raw client's `hello` to say "this bot has never had
 * a verified event" (a mistyped secret) instead of leaving it in silence. Shared by every process in split mode (the
 * ingress records, the gateways read).
 */
export interface BotStanding {
  /** Callback validations (op 13) answered for this secret. Anyone can send op 13: it proves the URL, not the platform. */
  readonly validations: number;
  readonly lastValidationAtMs: number | undefined;
  /** The last event whose signature verified with this secret (at most about a second stale: see ThrottledActivity). */
  readonly lastEventAtMs: number | undefined;
  readonly lastEventType: string | undefined;
}

export const NO_STANDING: BotStanding = {
  validations: 0,
  lastValidationAtMs: undefined,
  lastEventAtMs: undefined,
  lastEventType: undefined,
};

/** The ingress's side: what it tells about each webhook it answered. */
export interface BotActivityRecorder {
  /** An op 13 was answered (rare: on setting the callback URL, and now and then by the platform). */
  recordValidation(bot: AppSecret, atMs: number): Promise<void>;
  /** An op 0 verified with the bot's secret (the hot path: wrap the store in ThrottledActivity). */
  recordVerifiedEvent(bot: AppSecret, type: string | undefined, atMs: number): Promise<void>;
}

/**
 * One bot's activity record. Memory and Redis implementations pass one contract suite
 * (test/bot-activity.contract.ts). Records of bots silent for META_TTL_MS are forgotten (op 13 is answered for any
 * secret, so records must not pile up for ever).
 */
export interface BotActivity extends BotActivityRecorder {
  standing(bot: AppSecret): Promise<BotStanding>;
  close(): Promise<void>;
}

/** More bots than any deployment has; past it the least recently recorded are forgotten (op 13 floods). */
const MEMORY_BOTS_MAX = 10_000;

export class MemoryBotActivity implements BotActivity {
  private readonly records = new Map<string, BotStanding>();

  async recordValidation(bot: AppSecret, atMs: number): Promise<void> {
    const was = this.records.get(bot.reveal()) ?? NO_STANDING;
    this.put(bot, { ...was, validations: was.validations + 1, lastValidationAtMs: Math.max(atMs, was.lastValidationAtMs ?? 0) });
  }

  async recordVerifiedEvent(bot: AppSecret, type: string | undefined, atMs: number): Promise<void> {
    const was = this.records.get(bot.reveal()) ?? NO_STANDING;
    if (was.lastEventAtMs !== undefined && was.lastEventAtMs > atMs) return;
    this.put(bot, { ...was, lastEventAtMs: atMs, lastEventType: type });
  }

  async standing(bot: AppSecret): Promise<BotStanding> {
    return this.records.get(bot.reveal()) ?? NO_STANDING;
  }

  async close(): Promise<void> {}

  private put(bot: AppSecret, standing: BotStanding): void {
    this.records.delete(bot.reveal());
    this.records.set(bot.reveal(), standing);
    if (this.records.size > MEMORY_BOTS_MAX) this.records.delete(this.records.keys().next().value!);
  }
}

/**
 * One hash per bot (`qq:{<S>}:activity`): `v` validations, `va` last validation at, `ea` last event at, `et` its
 * type. Event times only move forward (a Lua max), so two ingress processes cannot set it back.
 */
export class RedisBotActivity implements BotActivity {
  private readonly client: RedisConnection['client'] & {
    hwRecordEvent(key: string, atMs: string, type: string, ttlMs: number): Promise<number>;
  };

  constructor(private readonly connection: RedisConnection) {
    // EVALSHA of a script defined once (ioredis loads it on first use), not EVAL with the script's text every time.
    this.client = connection.client as typeof this.client;
    this.client.defineCommand('hwRecordEvent', { numberOfKeys: 1, lua: RECORD_EVENT });
  }

  async recordValidation(bot: AppSecret, atMs: number): Promise<void> {
    const key = redisKeys.activity(bot);
    await this.connection.run(
      this.connection.client.multi().hincrby(key, 'v', 1).hset(key, 'va', String(atMs)).pexpire(key, META_TTL_MS).exec(),
    );
  }

  async recordVerifiedEvent(bot: AppSecret, type: string | undefined, atMs: number): Promise<void> {
    await this.connection.run(this.client.hwRecordEvent(redisKeys.activity(bot), String(atMs), type ?? '', META_TTL_MS));
  }

  async standing(bot: AppSecret): Promise<BotStanding> {
    const h = await this.connection.run(this.connection.client.hgetall(redisKeys.activity(bot)));
    return {
      validations: Number(h.v ?? 0) || 0,
      lastValidationAtMs: numberOrUndefined(h.va),
      lastEventAtMs: numberOrUndefined(h.ea),
      lastEventType: h.et ? h.et : undefined,
    };
  }

  /** The shared connection stays with its owner. */
  async close(): Promise<void> {}
}

const RECORD_EVENT = `
local at = tonumber(ARGV[1])
local was = tonumber(redis.call('HGET', KEYS[1], 'ea') or '0')
if at >= was then redis.call('HSET', KEYS[1], 'ea', ARGV[1], 'et', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

function numberOrUndefined(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

export function openBotActivity(backend: StoreBackend): BotActivity {
  return backend.kind === 'redis' ? new RedisBotActivity(backend.connection) : new MemoryBotActivity();
}

/** The ingress's narrow view: fire and forget (failures are reported by the recorder, never thrown at the webhook). */
export interface ActivityNotes {
  validated(bot: AppSecret, atMs: number): void;
  verifiedEvent(bot: AppSecret, type: string | undefined, atMs: number): void;
}

/**
 * The hot-path recorder: at most one verified-event write per bot per `intervalMs` (default 1 s) from this process,
 * the last event of each window written when the window ends, so the record is at most that stale. Validations
 * are rare and pass straight through — but anyone can send op 13 with any secret, and each new secret is a new record,
 * so at most `validationsPerMinute` (default 60) are written per process per minute; a flood's excess is dropped.
 * Write failures are reported to `onError`, never thrown at the webhook.
 *
 * (Reading the last entry of the event log instead would cost no write at all, but the history is trimmed by age and
 * size, and a bot whose events all aged out would look as if it never had one — the wrong answer for hello.)
 */
export class ThrottledActivity implements ActivityNotes {
  private readonly windows = new Map<
    string,
    { bot: AppSecret; timer: NodeJS.Timeout; pending?: { type: string | undefined; atMs: number } }
  >();
  private closed = false;
  private validationMinute = 0;
  private validationsThisMinute = 0;

  constructor(
    private readonly store: BotActivityRecorder,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 1000,
    private readonly validationsPerMinute = 60,
  ) {}

  validated(bot: AppSecret, atMs: number): void {
    const minute = Math.floor(atMs / 60_000);
    if (minute !== this.validationMinute) [this.validationMinute, this.validationsThisMinute] = [minute, 0];
    if (++this.validationsThisMinute > this.validationsPerMinute) return;
    this.store.recordValidation(bot, atMs).catch(this.onError);
  }

  verifiedEvent(bot: AppSecret, type: string | undefined, atMs: number): void {
    const window = this.windows.get(bot.reveal());
    if (window) {
      window.pending = { type, atMs };
      return;
    }
    if (this.closed) return;
    this.openWindow(bot);
    this.store.recordVerifiedEvent(bot, type, atMs).catch(this.onError);
  }

  /** Writes what the open windows hold back, and stops. */
  async close(): Promise<void> {
    this.closed = true;
    const windows = [...this.windows.values()];
    this.windows.clear();
    for (const w of windows) clearTimeout(w.timer);
    await Promise.all(
      windows.flatMap((w) =>
        w.pending ? [this.store.recordVerifiedEvent(w.bot, w.pending.type, w.pending.atMs).catch(this.onError)] : [],
      ),
    );
  }

  private openWindow(bot: AppSecret): void {
    const timer = setTimeout(() => {
      const window = this.windows.get(bot.reveal());
      this.windows.delete(bot.reveal());
      if (!window?.pending || this.closed) return;
      // The held-back event opens the next window, so a steady stream is written once per interval.
      this.openWindow(bot);
      this.store.recordVerifiedEvent(bot, window.pending.type, window.pending.atMs).catch(this.onError);
    }, this.intervalMs).unref();
    this.windows.set(bot.reveal(), { bot, timer });
  }
}
