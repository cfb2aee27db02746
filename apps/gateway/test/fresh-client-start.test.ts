import { describe, expect, it } from 'vitest';
import type { EventLog, StreamPosition } from '@hookway/bus';
import { AppSecret } from '@hookway/protocol';
import { groupAtMessage } from '@hookway/testkit';
import { freshClientStart, newerDeliveredMark } from '../src/shared/bot-feeds.ts';
import { gatewayFixture, memoryStores, SECRET } from './gateway-fixture.ts';

const { start, connect, identified } = gatewayFixture();

describe('freshClientStart: a client without a cursor starts after what was delivered, never after where it joined', () => {
  const at = (seq: number, epoch = 'e1'): StreamPosition => ({ epoch, seq });
  it.each([
    ['nothing delivered yet: everything retained', undefined, at(4), undefined],
    ['delivered before the join: from the delivered mark', at(2), at(4), at(2)],
    ['delivered at the join', at(4), at(4), at(4)],
    ['delivered past the join (another gateway was quicker): from the join', at(6), at(4), at(4)],
    ['a mark of an older numbering: everything retained', at(9, 'e0'), at(4), undefined],
    ['joined in an older numbering, the mark in a newer one: everything retained', at(3, 'e2'), at(4), undefined],
    ['joined before the bot had any event, nothing delivered: from the join', undefined, at(0, ''), at(0, '')],
    ['joined before the bot had any event, its first ones delivered elsewhere: from the join', at(2), at(0, ''), at(0, '')],
  ])('%s', (_case, delivered, joinedAt, expected) => {
    expect(freshClientStart(delivered, joinedAt)).toEqual(expected);
  });
});

describe('newerDeliveredMark: the event log’s mark, or this gateway’s own when it is further in the same numbering', () => {
  const at = (seq: number, epoch = 'e1'): StreamPosition => ({ epoch, seq });
  it.each([
    ['no mark anywhere', undefined, undefined, undefined],
    ['only the log has one (another gateway’s clients)', at(3), undefined, at(3)],
    ['only this gateway has one (not written yet)', undefined, at(2), at(2)],
    ['this gateway’s is further (the log lags by up to the interval)', at(3), at(7), at(7)],
    ['the log’s is further (another gateway’s clients got more)', at(9), at(7), at(9)],
    ['equal', at(5), at(5), at(5)],
    ['different numberings: the log’s', at(2, 'e2'), at(8, 'e1'), at(2, 'e2')],
    [
      'different numberings, the log’s the older: still the log’s (a fresh client gets more, never less)',
      at(8, 'e1'),
      at(2, 'e2'),
      at(8, 'e1'),
    ],
  ])('%s', (_case, fromLog, local, expected) => {
    expect(newerDeliveredMark(fromLog, local)).toEqual(expected);
  });
});

/**
 * Stores whose delivered mark is read only after another event was accepted and delivered elsewhere — what another
 * gateway's client does while this one's client is still starting (seen in the Cluster failover test: an event
 * accepted once every gateway had subscribed never reached one client).
 */
function racedStores() {
  const stores = memoryStores();
  const bot = AppSecret.of(SECRET);
  const racer = groupAtMessage({ content: 'accepted while the client was starting' });
  let raced = false;
  const events = Object.assign(Object.create(stores.events) as EventLog, {
    deliveredPosition: async (b: AppSecret) => {
      if (!raced) {
        raced = true;
        const published = await stores.events.publish(bot, { body: Buffer.from(racer) });
        if (published.status === 'accepted') await stores.events.markDelivered(bot, published.position);
      }
      return stores.events.deliveredPosition(b);
    },
  });
  return { stores: { ...stores, events }, racer };
}

describe('an event accepted and delivered elsewhere while a fresh client starts', () => {
  it('reaches a raw client', async () => {
    const { stores, racer } = racedStores();
    const g = await start({}, { stores });
    const client = await connect(g, `/ws?secret=${SECRET}`);
    const next = groupAtMessage({ content: 'next' });
    expect((await g.publish(next)).status).toBe('accepted');
    expect(await client.waitForFrames(2)).toEqual([racer, next]);
  });

  it('reaches a gateway-mode session', async () => {
    const { stores, racer } = racedStores();
    const g = await start({}, { stores });
    const session = await identified(g);
    const dispatch = (await session.next(3))[2];
    expect(dispatch).toMatchObject({ op: 0, t: 'GROUP_AT_MESSAGE_CREATE', d: JSON.parse(racer).d });
  });
});
