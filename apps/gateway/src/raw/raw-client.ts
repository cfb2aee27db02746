import type { BusEvent } from '@hookway/bus';
import { clientHeartbeatSchema, HEARTBEAT_ACK_FRAME, RawClose, resumeStatusFrame, type AppSecret } from '@hookway/protocol';
import type WebSocket from 'ws';
import type { KeyGrant } from '../shared/client-keys.ts';
import { envelopeFacts } from '../shared/envelope-cache.ts';
import { StreamClient, type StreamClientContext } from '../shared/stream-client.ts';

/**
 * A raw-mode client (`/ws`): each event's original bytes as one text frame. It joins its bot's feed at once and
 * catches up — with `after`, from that event (after a status frame saying whether recovery was complete);
 * without it, from the events no client has received yet. A client admitted with a client key limited to certain
 * event types gets only those, live and replayed; the others still count as passed, so its `after` cursor (the last
 * event it saw) resumes it with no gap in what it may see.
 */
export class RawClient extends StreamClient {
  protected readonly slowConsumerClose = RawClose.SlowConsumer;
  readonly clientMode = 'raw';

  constructor(
    ws: WebSocket,
    context: StreamClientContext,
    private readonly bot: AppSecret,
    private readonly after: string | undefined,
    grant: KeyGrant | undefined,
  ) {
    super(ws, context);
    this.keyGrant = grant;
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
      { bot: this.bot.tag, ...this.keyField(), resume: this.after !== undefined, connections: this.context.clients.size },
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
        replayed: slice.events.filter((e) => this.visible(e)).length,
        ...(cursor === undefined ? { reason: 'cursor_not_found' as const } : {}),
      }),
    );
    await this.catchUp(slice);
  }

  protected render(event: BusEvent): Buffer | undefined {
    return this.visible(event) ? event.body : undefined;
  }

  private visible(event: BusEvent): boolean {
    return this.keyGrant?.events === undefined || this.keyAllows(envelopeFacts(event).t);
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

  keyRevoked(): void {
    this.closeWith(RawClose.KeyRevoked);
  }

  protected onClosed(code: number): void {
    this.context.logger.info(
      { bot: this.bot.tag, ...this.keyField(), code, connections: this.context.clients.size },
      'client disconnected',
    );
  }

  /** The key's name in log lines (never the key or its hash). */
  private keyField(): { key?: string } {
    return this.keyGrant ? { key: this.keyGrant.name } : {};
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
