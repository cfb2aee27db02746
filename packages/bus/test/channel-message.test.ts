import { describe, expect, it } from 'vitest';
import { decodeChannelMessage, encodeChannelMessage } from '../src/redis-event-log.ts';

describe('channel messages (header line + raw body)', () => {
  it.each([
    ['with an id', { epoch: 'AbCdEfGh', seq: 1, eventId: 'GROUP_AT_MESSAGE_CREATE:abc', body: Buffer.from('{"op":0}') }],
    ['without an id', { epoch: 'AbCdEfGh', seq: 42, eventId: undefined, body: Buffer.from('{}') }],
    ['an id with a newline and quotes', { epoch: 'e', seq: 7, eventId: 'a\n"b"', body: Buffer.from('x\ny') }],
    ['a body that is not UTF-8', { epoch: 'e', seq: 3, eventId: 'id', body: Buffer.from([0xff, 0x0a, 0x00, 0xfe]) }],
  ])('what the ingress announces, a gateway reads back byte for byte: %s', (_name, event) => {
    const decoded = decodeChannelMessage(encodeChannelMessage(event));
    expect(decoded && { epoch: decoded.epoch, seq: decoded.seq, eventId: decoded.eventId }).toEqual({
      epoch: event.epoch,
      seq: event.seq,
      eventId: event.eventId,
    });
    expect(decoded!.body.equals(event.body)).toBe(true);
  });
});
