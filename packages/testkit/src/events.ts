/** Realistic platform payloads for tests and benchmarks (shapes from qq-protocol.md §6). */

let counter = 0;

/** A unique lowercase-alnum event id, as the platform's look: `GROUP_AT_MESSAGE_CREATE:…`. */
export function eventId(type = 'GROUP_AT_MESSAGE_CREATE'): string {
  counter++;
  return `${type}:${process.pid.toString(36)}${Date.now().toString(36)}${counter.toString(36).padStart(6, '0')}`;
}

/** A ~600-byte GROUP_AT_MESSAGE_CREATE body, serialised the way the platform does (one line). */
export function groupAtMessage(options: { id?: string; content?: string } = {}): string {
  const id = options.id ?? eventId();
  return JSON.stringify({
    op: 0,
    id,
    d: {
      id: `ROBOT1.0_${id.split(':')[1] ?? id}.kX9Tr2dQ0mB4wYp7Lz8aVgS3nHc1fEj6uKqR5tM!`,
      content: options.content ?? ' /weather 北京',
      timestamp: '2025-09-08T23:13:34+08:00',
      author: {
        id: '0BA13D42931777D3922F226B6B5D7F13',
        member_openid: '0BA13D42931777D3922F226B6B5D7F13',
        union_openid: '0BA13D42931777D3922F226B6B5D7F13',
      },
      group_id: '82B3406CB35C23E1071C8D6EC61C6064',
      group_openid: '82B3406CB35C23E1071C8D6EC61C6064',
      message_scene: { source: 'default', ext: ['msg_idx=REFIDX_CJi0wq4GEAE='] },
      message_type: 0,
    },
    t: 'GROUP_AT_MESSAGE_CREATE',
  });
}

/** The id of a payload produced by `groupAtMessage`, or any JSON payload. */
export function idOf(body: string): string {
  return (JSON.parse(body) as { id: string }).id;
}

/** A C2C_MESSAGE_CREATE body (a user's direct message to the bot), serialised the way the platform does. */
export function c2cMessage(options: { id?: string; content?: string } = {}): string {
  const id = options.id ?? eventId('C2C_MESSAGE_CREATE');
  return JSON.stringify({
    op: 0,
    id,
    d: {
      id: `ROBOT1.0_${id.split(':')[1] ?? id}.c2cXq9Tr2dQ0mB4wYp7Lz8aVg!`,
      content: options.content ?? 'hello',
      timestamp: '2025-09-08T23:15:02+08:00',
      author: { id: '6F2AE41B4C0D0A5E8E0E36E0F1C7A123', user_openid: '6F2AE41B4C0D0A5E8E0E36E0F1C7A123' },
      message_scene: { source: 'default' },
      message_type: 0,
    },
    t: 'C2C_MESSAGE_CREATE',
  });
}
