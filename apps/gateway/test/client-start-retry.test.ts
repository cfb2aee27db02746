import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { historyLimits, MemoryEventLog, type HistorySlice, type StreamPosition } from '@hookway/bus';
import type { AppSecret } from '@hookway/protocol';
import { defaultConfig } from '@hookway/runtime';
import { groupAtMessage, until } from '@hookway/testkit';
import { gatewayFixture, memoryStores, SECRET } from './gateway-fixture.ts';

/** An event log that refuses its first `refusals` history reads, as a Redis does while it fails over. */
class FailingOverLog extends MemoryEventLog {
  historyReads = 0;
  constructor(public refusals: number) {
    super(historyLimits(defaultConfig()));
  }
  override async history(bot: AppSecret, cursor?: StreamPosition): Promise<HistorySlice> {
    this.historyReads++;
    if (this.refusals-- > 0) throw new Error('CLUSTERDOWN The cluster is down');
    return super.history(bot, cursor);
  }
}

const { start, connect, identified } = gatewayFixture();

async function gatewayOn(log: FailingOverLog) {
  return start({}, { stores: { ...memoryStores(), events: log } });
}

describe("a client's start while the event log refuses reads (a failover)", () => {
  it('a new raw client waits for the log instead of being closed, and gets every event accepted meanwhile', async () => {
    const log = new FailingOverLog(0);
    const g = await gatewayOn(log);
    const first = await connect(g, `/ws?secret=${SECRET}`);
    const before = groupAtMessage();
    expect((await g.publish(before)).status).toBe('accepted');
    expect(await first.waitForFrames(1)).toEqual([before]);
    const readsBefore = log.historyReads;
    log.refusals = 3;
    const client = await connect(g, `/ws?secret=${SECRET}`);
    const meanwhile = [groupAtMessage(), groupAtMessage()];
    for (const body of meanwhile) expect((await g.publish(body)).status).toBe('accepted');
    await until(() => client.frames.includes(meanwhile[1]!), 'the second event to reach the new client');
    // `before` too if its delivery was not marked yet when the client started; never one of them missing or twice.
    expect(client.frames.filter((f) => f !== before)).toEqual(meanwhile);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(log.historyReads - readsBefore).toBe(4); // three refused, the fourth answered
  });

  it('a resuming raw client too', async () => {
    const log = new FailingOverLog(0);
    const g = await gatewayOn(log);
    const bodies = [groupAtMessage(), groupAtMessage(), groupAtMessage()];
    for (const body of bodies) expect((await g.publish(body)).status).toBe('accepted');
    const id = (JSON.parse(bodies[0]!) as { id: string }).id;
    log.refusals = 2;
    const client = await connect(g, `/ws?secret=${SECRET}&after=${encodeURIComponent(id)}`);
    const frames = await client.waitForFrames(3);
    expect(JSON.parse(frames[0]!)).toMatchObject({ hookway: 'resume', recovered: true, replayed: 2 });
    expect(frames.slice(1)).toEqual(bodies.slice(1));
  });

  it('a gateway-mode session: READY once the log answers, then the events', async () => {
    const log = new FailingOverLog(2);
    const g = await gatewayOn(log);
    const client = await identified(g);
    const body = groupAtMessage();
    expect((await g.publish(body)).status).toBe('accepted');
    const frames = await client.next(3); // Hello, READY, the event
    expect(frames[2]).toMatchObject({ op: 0, t: 'GROUP_AT_MESSAGE_CREATE' });
    expect(log.historyReads).toBeGreaterThanOrEqual(3);
  });
});
