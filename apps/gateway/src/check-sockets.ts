import type WebSocket from 'ws';
import type { BusSubscription, EventReader } from '@hookway/bus';
import { CheckClose, checkReadyFrame, type CheckReadyFrame } from '@hookway/protocol';
import type { Logger } from '@hookway/runtime';

/** At most this many check sockets per process: an unauthenticated check socket must stay cheap and rare. */
export const MAX_CHECK_SOCKETS = 16;
/** A check needs seconds; its socket is closed after this long whatever happens. */
export const CHECK_SOCKET_LIFETIME_MS = 60_000;

/**
 * `hookway check`'s sockets (`/ws/check/<nonce>`; packages/protocol/src/check.ts says why they exist). Each one
 * listens on its nonce's check channel and nothing else: it joins no bot feed, so it receives no event of any bot,
 * reads no history and never moves a bot's delivered mark. It only ever receives a check event that an ingress
 * verified with a bot's signature, and only the one carrying its nonce.
 */
export class CheckSockets {
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly events: Pick<EventReader, 'subscribeCheck'>,
    private readonly logger: Logger,
  ) {}

  get count(): number {
    return this.sockets.size;
  }

  get full(): boolean {
    return this.sockets.size >= MAX_CHECK_SOCKETS;
  }

  /** Listens on the nonce's channel, then says so in a ready frame (naming the client key's bot, when one was given). */
  open(ws: WebSocket, nonce: string, key: CheckReadyFrame['key']): void {
    this.sockets.add(ws);
    let subscription: BusSubscription | undefined;
    let closed = false;
    const timer = setTimeout(() => ws.close(CheckClose.TimeUp.code, CheckClose.TimeUp.reason), CHECK_SOCKET_LIFETIME_MS);
    timer.unref();
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      closed = true;
      this.sockets.delete(ws);
      clearTimeout(timer);
      subscription?.close().catch(() => undefined);
    });
    this.events
      // A text frame, as raw clients get events: the body is UTF-8 JSON (the ingress checked both).
      .subscribeCheck(nonce, (body) => ws.send(body, { binary: false }))
      .then(
        (s) => {
          if (closed) return void s.close().catch(() => undefined);
          subscription = s;
          ws.send(checkReadyFrame({ nonce, ...(key ? { key } : {}) }));
        },
        (err: unknown) => {
          this.logger.warn({ err }, 'check socket could not listen on its channel');
          ws.close(CheckClose.InternalError.code, CheckClose.InternalError.reason);
        },
      )
      .catch(() => undefined);
    this.logger.info({ ...(key ? { key: key.name, bot: key.bot } : {}) }, 'hookway check connected');
  }

  /** Shutdown: every check socket is told 1001. */
  close(): void {
    for (const ws of this.sockets) ws.close(CheckClose.GoingAway.code, CheckClose.GoingAway.reason);
  }
}
