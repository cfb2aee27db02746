import type { BusEvent } from '@hookway/bus';
import { freshClientStart } from '../shared/bot-feeds.ts';
import {
  clientHeartbeatSchema,
  HEARTBEAT_ACK_FRAME,
  looksLikeCall,
  rawHelloFrame,
  RawClose,
  resumeStatusFrame,
  type AppSecret,
  type RawHelloFrame,
  type ResumeStatusFrame,
} from '@hookway/protocol';
import type WebSocket from 'ws';
import type { KeyGrant } from '../shared/client-keys.ts';
import { envelopeFacts } from '../shared/envelope-cache.ts';
import type { EventFrames, PreparedFrame } from '../shared/frames.ts';
import { StreamClient, type StreamClientContext } from '../shared/stream-client.ts';
import { CallLine } from './calls.ts';

/** What a raw client chose to hear and be told (`events=`, `hello=1`); all optional. */
export interface RawView {
  /** Only these event types (the URL filter already intersected with the key's limit); undefined: all. */
  readonly events?: ReadonlySet<string> | undefined;
  /** When set, the client asked for `hello=1`: the bot facts for its hello frame. */
  readonly hello?: (() => Promise<RawHelloFrame['bot']>) | undefined;
}

/**
 * A raw-mode client (`/ws`): each event's original bytes as one text frame. It joins its bot's feed at once and
 * catches up — with `after`, from that event (after a status frame saying whether recovery was complete);
 * without it, from the events no client has received yet. A client admitted with a client key limited to certain
 * event types, or that asked for some with `events=`, gets only those, live and replayed; the others still count as
 * passed, so its `after` cursor (the last event it saw, or any other) resumes it with no gap in what it may see.
 * Filtering happens here, at delivery, after the feed's gap detection: positions stay continuous whatever is hidden.
 * With `hello=1` the first frame is a hello (bot facts, filter, resume report) instead of the resume frame.
 */
export class RawClient extends StreamClient {
  protected readonly slowConsumerClose = RawClose.SlowConsumer;
  readonly clientMode = 'raw';
  /** Made at the first call frame. */
  private callLine: CallLine | undefined;
  /** With `hello=1`, answers to the client's frames until the hello is sent; undefined once it is (or without hello). */
  private heldUntilHello: string[] | undefined;

  constructor(
    ws: WebSocket,
    context: StreamClientContext,
    private readonly bot: AppSecret,
    private readonly after: string | undefined,
    grant: KeyGrant | undefined,
    address: string,
    private readonly view: RawView = {},
  ) {
    super(ws, context, address);
    this.keyGrant = grant;
    if (view.hello) this.heldUntilHello = [];
  }

  protected begin(): void {
    this.joinAndCatchUp().catch((err: unknown) => {
      this.context.logger.error({ bot: this.bot.tag, err }, 'could not start client stream');
      this.closeWith(RawClose.InternalError);
    });
  }

  private async joinAndCatchUp(): Promise<void> {
    // Read before joining: the facts may take a Redis round trip, and nothing may be written before the hello.
    const helloBot = await this.view.hello?.();
    await this.joinFeed(this.bot);
    if (this.isClosed()) return;
    this.noteConnected(this.bot, this.keyGrant?.appid);
    this.context.logger.info(
      { bot: this.bot.tag, ...this.keyField(), resume: this.after !== undefined, connections: this.context.clients.size },
      'client connected',
    );
    const { events } = this.context;
    if (this.after === undefined) {
      const slice = await this.readStart(async () =>
        events.history(this.bot, freshClientStart(await this.context.feeds.deliveredPosition(this.bot), this.joinedAt!)),
      );
      if (this.isClosed()) return;
      if (helloBot) this.sendHello(helloBot, null);
      return this.catchUp(slice);
    }
    const after = this.after;
    const { cursor, slice } = await this.readStart(async () => {
      const cursor = await events.locate(this.bot, after);
      return { cursor, slice: await events.history(this.bot, cursor) };
    });
    if (this.isClosed()) return;
    const resume: Omit<ResumeStatusFrame, 'hookway'> = {
      recovered: cursor !== undefined && slice.complete,
      after: this.after,
      replayed: slice.events.filter((e) => this.visible(e)).length,
      ...(cursor === undefined ? { reason: 'cursor_not_found' as const } : {}),
    };
    if (helloBot) this.sendHello(helloBot, resume);
    else this.sendControl(resumeStatusFrame(resume));
    await this.catchUp(slice);
  }

  private sendHello(bot: RawHelloFrame['bot'], resume: RawHelloFrame['resume']): void {
    const { events } = this.view;
    this.sendControl(rawHelloFrame({ bot, events: events ? [...events] : null, resume }));
    const held = this.heldUntilHello;
    this.heldUntilHello = undefined;
    for (const frame of held ?? []) this.sendControl(frame);
  }

  /**
   * Answers to the client's own frames (heartbeat acks, call results). With `hello=1` the hello is the first frame
   * whatever the client sends at once: answers wait behind it (the hello may need a Redis round trip).
   */
  private answer(frame: string): void {
    if (!this.heldUntilHello) return this.sendControl(frame);
    // One heartbeat ack says all that many would: a client that keeps beating while it waits holds nothing more.
    if (frame === HEARTBEAT_ACK_FRAME && this.heldUntilHello.includes(frame)) return;
    this.heldUntilHello.push(frame);
  }

  /** The platform's bytes, verbatim: one frame shared by every raw client that sees the event. */
  protected render(event: BusEvent, frames: EventFrames): PreparedFrame | undefined {
    return this.visible(event) ? frames.raw() : undefined;
  }

  protected override rendersEveryEventRaw(): boolean {
    return this.keyGrant?.events === undefined && this.view.events === undefined;
  }

  private visible(event: BusEvent): boolean {
    if (this.rendersEveryEventRaw()) return true;
    const { events } = this.view;
    const { t } = envelopeFacts(event);
    return this.keyAllows(t) && (events === undefined || (t !== undefined && events.has(t)));
  }

  /**
   * Raw clients may send the gateway's heartbeat `{"op":1,…}` (answered with `{"op":11}`) and call frames
   * `{"hookway":"call",…}` (answered with a result frame). Nothing else is taken.
   */
  protected onText(text: string): boolean {
    if (isClientHeartbeat(text)) {
      this.answer(HEARTBEAT_ACK_FRAME);
      return true;
    }
    const { calls } = this.context;
    if (!calls || !looksLikeCall(text)) return false;
    this.callLine ??= new CallLine(calls, { appid: this.keyGrant?.appid, secret: this.bot }, this.keyGrant?.readOnly === true, (frame) =>
      this.answer(frame),
    );
    this.callLine.take(text);
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
