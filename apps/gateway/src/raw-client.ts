import type { Bus, BusEvent } from '@hookway/bus';
import { RawClose, resumeStatusFrame } from '@hookway/protocol';
import type WebSocket from 'ws';
import { StreamClient, type StreamClientCounters, type StreamClientOptions } from './stream-client.ts';

export type { StreamClientCounters as RawClientCounters } from './stream-client.ts';

type CatchUpBus = Pick<Bus, 'locate' | 'history' | 'deliveredPosition'>;

/** A raw-mode client (`/ws`): each event's original bytes as one text frame. */
export class RawClient extends StreamClient {
  protected readonly slowConsumerClose = RawClose.SlowConsumer;

  constructor(
    ws: WebSocket,
    readonly bot: string,
    options: StreamClientOptions,
    counters: StreamClientCounters,
  ) {
    super(ws, options, counters);
  }

  protected render(event: BusEvent): Buffer {
    return event.body;
  }

  lostEvents(): void {
    this.closeWith(RawClose.StreamGap);
  }

  /**
   * Replays what the client missed, then switches to live. With `after`, everything after that event id
   * (preceded by a status frame saying whether recovery was complete); without it, the events no client has
   * received yet. Returns the last event written, if any.
   */
  async catchUp(bus: CatchUpBus, after: string | undefined): Promise<BusEvent | undefined> {
    if (after === undefined) {
      return this.replayThenGoLive(await bus.history(this.bot, await bus.deliveredPosition(this.bot)));
    }
    const cursor = await bus.locate(this.bot, after);
    const slice = await bus.history(this.bot, cursor);
    if (this.state === 'closed') return undefined;
    this.sendControl(
      resumeStatusFrame({
        recovered: cursor !== undefined && slice.complete,
        after,
        replayed: slice.events.length,
        ...(cursor === undefined ? { reason: 'cursor_not_found' as const } : {}),
      }),
    );
    return this.replayThenGoLive(slice);
  }
}
