import type { BusEvent } from '@hookway/bus';
import { clientHeartbeatSchema, HEARTBEAT_ACK_FRAME, RawClose, resumeStatusFrame, type AppSecret } from '@hookway/protocol';
import type WebSocket from 'ws';
import { StreamClient, type StreamClientContext } from '../shared/stream-client.ts';

/**
 * A raw-mode client (`/ws`): each event's original bytes as one text frame. It joins its bot's feed at once and
 * catches up — with `after`, from that event (after a status frame saying whether recovery was complete);
 * without it, from the events no client has received yet.
 */
export class RawClient extends StreamClient {
  protected readonly slowConsumerClose = RawClose.SlowConsumer;

  constructor(
    ws: WebSocket,
    context: StreamClientContext,
    private readonly bot: AppSecret,
    private readonly after: string | undefined,
  ) {
    super(ws, context);
  }

  protected begin(): void {
    this.joinAndCatchUp().catch((err: unknown) => {
      this.context.logger.error({ bot: this.bot.tag, err }, 'could not start client stream');
      this.closeWith(RawClose.InternalError);
    });
  }

  private async joinAndCatchUp(): Promise<void> {
    await this.joinFeed(this.bot);
    if (this.isClosed()) return;
    this.context.logger.info(
      { bot: this.bot.tag, resume: this.after !== undefined, connections: this.context.clients.size },
      'client connected',
    );
    const { events } = this.context;
    if (this.after === undefined) {
      return this.catchUp(await events.history(this.bot, await events.deliveredPosition(this.bot)));
    }
    const cursor = await events.locate(this.bot, this.after);
    const slice = await events.history(this.bot, cursor);
    if (this.isClosed()) return;
    this.sendControl(
      resumeStatusFrame({
        recovered: cursor !== undefined && slice.complete,
        after: this.after,
        replayed: slice.events.length,
        ...(cursor === undefined ? { reason: 'cursor_not_found' as const } : {}),
      }),
    );
    await this.catchUp(slice);
  }

  protected render(event: BusEvent): Buffer {
    return event.body;
  }

  /** Raw clients may send the gateway's heartbeat `{"op":1,…}`; it is answered with `{"op":11}`. Nothing else is taken. */
  protected onText(text: string): boolean {
    if (!isClientHeartbeat(text)) return false;
    this.sendControl(HEARTBEAT_ACK_FRAME);
    return true;
  }

  lostEvents(): void {
    this.closeWith(RawClose.StreamGap);
  }

  shutdown(): void {
    this.closeWith(RawClose.GoingAway);
  }

  protected onClosed(code: number): void {
    this.context.logger.info({ bot: this.bot.tag, code, connections: this.context.clients.size }, 'client disconnected');
  }
}

function isClientHeartbeat(text: string): boolean {
  if (!text.includes('"op"')) return false;
  try {
    return clientHeartbeatSchema.safeParse(JSON.parse(text)).success;
  } catch {
    return false;
  }
}
