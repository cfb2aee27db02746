/**
 * WebSocket close codes Hookway sends, each with what a client should do next.
 * Raw mode (`/ws`) uses the standard codes plus the 41xx range; gateway mode keeps the platform's own codes.
 */
export interface CloseCodeInfo {
  readonly code: number;
  readonly reason: string;
  /** What the client should do: reconnect (resuming with `after` where it can), or stop. */
  readonly reconnect: 'resume' | 'fresh' | 'never';
}

export const RawClose = {
  /** Server is shutting down or restarting; reconnect (to another replica) and resume with `after`. */
  GoingAway: { code: 1001, reason: 'server shutting down, reconnect', reconnect: 'resume' },
  /** The client sent a frame larger than the limit (sent by ws itself, via maxPayload); reconnect and resume. */
  MessageTooBig: { code: 1009, reason: 'client frame too large', reconnect: 'resume' },
  /** An unexpected server error; reconnect and resume. */
  InternalError: { code: 1011, reason: 'internal error', reconnect: 'resume' },
  /**
   * Events were lost between Redis and this gateway and the history no longer holds them. Reconnect with `after`:
   * the resume frame will say `recovered:false`, then everything still retained follows.
   */
  StreamGap: { code: 4101, reason: 'events lost upstream, reconnect with after', reconnect: 'resume' },
  /** The client read too slowly and its send buffer hit the cap; reconnect and resume with `after`. */
  SlowConsumer: { code: 4100, reason: 'send buffer full, reconnect with after', reconnect: 'resume' },
  /**
   * The client key this connection was admitted with was revoked or has expired (`hookway keys revoke`). Reconnecting
   * with the same key is refused (401); the client needs a new key.
   */
  KeyRevoked: { code: 4102, reason: 'key revoked or expired', reconnect: 'never' },
} as const satisfies Record<string, CloseCodeInfo>;
