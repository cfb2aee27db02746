import { describe, expect, it } from 'vitest';
import { groupAtMessage, idOf } from '@hookway/testkit';
import { gatewayFixture, guildEvent } from './gateway-fixture.ts';

const { start, identified } = gatewayFixture();
const GUILD_INTENT = 1 << 30;

describe('intents and shards', () => {
  it('strict: only the events the Identify intents ask for; all: everything', async () => {
    const strict = await start();
    const guildOnly = await identified(strict, undefined, GUILD_INTENT);
    await strict.publish(groupAtMessage());
    const guild = guildEvent('18700000000001');
    await strict.publish(guild);
    // Published after the group event: had that one been sent, it would be the third frame.
    expect((await guildOnly.next(3))[2]).toMatchObject({ t: 'AT_MESSAGE_CREATE', id: idOf(guild) });

    const everything = await start({ gatewayIntents: 'all' });
    const all = await identified(everything, undefined, GUILD_INTENT);
    await everything.publish(groupAtMessage());
    expect((await all.next(3))[2]).toMatchObject({ t: 'GROUP_AT_MESSAGE_CREATE' });
  });

  it('splits guild events by (guild_id >> 22) % shards and sends group/C2C events to shard 0', async () => {
    const g = await start();
    const zero = await identified(g, undefined, undefined, [0, 2]);
    const one = await identified(g, undefined, undefined, [1, 2]);
    const onShard = (shard: number) => String((BigInt(shard) << 22n) + 5n);
    const [g0, g1, group, marker] = [guildEvent(onShard(0)), guildEvent(onShard(1)), groupAtMessage(), guildEvent(onShard(1), 'marker')];
    for (const body of [g0, g1, group, marker]) await g.publish(body);
    expect((await zero.next(4)).slice(2).map((f) => f.id)).toEqual([idOf(g0), idOf(group)]);
    // Shard 1's next event after g1 is the marker: the group event went to shard 0 only.
    expect((await one.next(4)).slice(2).map((f) => f.id)).toEqual([idOf(g1), idOf(marker)]);
  });
});
