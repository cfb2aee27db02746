import type { CallingBot, CallOpenApi } from '@hookway/bots';
import { readOnlyAllows } from '@hookway/keys';
import { callResultFrame, parseCallFrame, type CallError, type CallResult } from '@hookway/protocol';
import type { Logger } from '@hookway/runtime';

/** Counted per gateway, shown on /healthz. */
export type RawCallCounters = {
  /** Call frames forwarded to the platform (whatever it answered). */
  rawCalls: number;
  /** Call frames answered with an error instead (malformed, refused, over the limit, no token, timeout, failure). */
  rawCallErrors: number;
};

/** What raw clients' calls need from the gateway: the narrow OpenAPI function, the per-connection limit. */
export interface RawCallsContext {
  /** Undefined when OPENAPI_PROXY=false: every call is refused. */
  readonly callOpenApi: CallOpenApi | undefined;
  /** RAW_CALLS_IN_FLIGHT_MAX. */
  readonly maxInFlight: number;
  readonly counters: RawCallCounters;
  readonly logger: Logger;
}

/**
 * One connection's calls: each call frame gets exactly one result frame with its id, sent through `send` (the
 * client's buffered-bytes check, like every event). At most `maxInFlight` calls wait for the platform at once;
 * more are answered `too_many_calls` at once, so a flooding client holds no more than that of anyone's resources.
 */
export class CallLine {
  private inFlight = 0;

  constructor(
    private readonly context: RawCallsContext,
    private readonly bot: CallingBot,
    private readonly readOnly: boolean,
    private readonly send: (frame: string) => void,
  ) {}

  /** A text frame that looks like a call. */
  take(text: string): void {
    const parsed = parseCallFrame(text);
    if (!parsed.ok) return this.fail(parsed.id, 'bad_call', parsed.message);
    const { call } = parsed;
    if (!this.context.callOpenApi) {
      return this.fail(call.id, 'path_not_allowed', 'this Hookway forwards no OpenAPI calls (OPENAPI_PROXY=false)');
    }
    if (this.readOnly && !readOnlyAllows(call.method)) {
      return this.fail(call.id, 'forbidden', 'this connection’s client key is read-only: GET calls only');
    }
    if (this.inFlight >= this.context.maxInFlight) {
      return this.fail(
        call.id,
        'too_many_calls',
        `${this.context.maxInFlight} calls of this connection are already waiting for the platform (RAW_CALLS_IN_FLIGHT_MAX); wait for a result`,
      );
    }
    this.inFlight++;
    const { callOpenApi } = this.context;
    callOpenApi(this.bot, { method: call.method, path: call.path, ...(call.body !== undefined ? { body: call.body } : {}) })
      .then((answer) => {
        if ('error' in answer) return this.fail(call.id, answer.error, answer.message, call.method, call.path);
        this.context.counters.rawCalls++;
        this.send(callResultFrame({ hookway: 'result', id: call.id, status: answer.status, body: answer.body }));
      })
      .catch((err: unknown) => {
        this.context.logger.error({ err }, 'raw client call failed unexpectedly');
        this.fail(call.id, 'upstream_failed', 'the call could not be made');
      })
      .finally(() => this.inFlight--);
  }

  private fail(id: string | null, error: CallError, message: string, method?: string, path?: string): void {
    this.context.counters.rawCallErrors++;
    // The path without its query (ids a user did not mean to log); never a body or a token. A refused path is not
    // logged at all: it may hold a secret in a form the redactor cannot see (percent-encoded, or not yet learned).
    if (method !== undefined) {
      this.context.logger.info(
        { bot: this.bot.secret.tag, method, ...(error === 'path_not_allowed' ? {} : { path: path?.split('?')[0] }), error },
        'raw client call not answered by the platform',
      );
    }
    const result: CallResult = { hookway: 'result', id, error, message };
    this.send(callResultFrame(result));
  }
}
