import WebSocket from 'ws';

/**
 * ws's WebSocket for the server's sockets, without two objects that ws otherwise makes for every socket and keeps for
 * its whole life (~160 bytes of an idle connection's ~4.5 KiB; docs/benchmarks.md, "Idle connections: where the RSS
 * goes"). It is given to WebSocketServer as its `WebSocket` class; nothing else changes (it is still a ws WebSocket).
 *
 * - `_extensions`: a new empty object per socket, shared with its Receiver and Sender. Without permessage-deflate
 *   (the gateway turns it off) a server socket never negotiates an extension and ws only reads it: every socket
 *   shares one frozen empty object.
 * - `_autoPongComplete`: a closure per socket, the callback of ws's automatic answer to a client's ping, which
 *   takes back the count of answers still being written (`_pendingAutoPongs`, past `maxPendingAutoPongs` ws
 *   terminates the client). Clients rarely ping; here the callback is made when ws asks for it, at a ping, and does
 *   the same. ws's constructor assigns the property: the setter ignores that.
 */
export class LeanWebSocket extends WebSocket {
  constructor(...args: unknown[]) {
    // ws's server makes it as `new WebSocket(null, undefined, options)`: passed on as given.
    super(...(args as ConstructorParameters<typeof WebSocket>));
    (this as unknown as WebSocketInternals)._extensions = NO_EXTENSIONS;
  }
}

interface WebSocketInternals {
  _extensions: object;
  _pendingAutoPongs: number;
}

const NO_EXTENSIONS = Object.freeze({});

Object.defineProperty(LeanWebSocket.prototype, '_autoPongComplete', {
  get(this: WebSocketInternals) {
    return () => {
      this._pendingAutoPongs--;
    };
  },
  set() {
    // ws's constructor stores its own closure here: not kept (the getter makes one when a ping needs it).
  },
});
