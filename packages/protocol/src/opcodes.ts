/** QQ payload opcodes (qq-protocol.md §1). The same envelope is used by webhooks and the gateway. */
export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
  HttpCallbackAck: 12,
  CallbackValidation: 13,
} as const;

export type OpCode = (typeof Op)[keyof typeof Op];

/** The body Hookway answers an accepted op 0 webhook with (BOTGO's `GenDispatchACK` success form). */
export const DISPATCH_ACK_BODY = '{"op":12,"d":0}';

/** The frame a client's op 1 heartbeat is answered with. */
export const HEARTBEAT_ACK_FRAME = '{"op":11}';
