import WebSocket from 'ws';

/**
 * ws's WebSocket for the server's sockets, without two objects that ws otherwise makes for every socket and keeps for
 * its whole life, and with a smaller listener table: ~380 bytes of what an idle connection would hold in the V8 heap
 * (~4.1 KiB; `node --import tsx bench/idle-heap-diff.ts` counts it by kind of object). It is given to WebSocketServer
 * as its `WebSocket` class; nothing else changes (it is still a ws WebSocket).
 *
 * - `_extensions`: a new empty object per socket, shared with its Receiver and Sender. Without permessage-deflate
 *   (the gateway turns it off) a server socket never negotiates an extension and ws only reads it: every socket
 *   shares one frozen empty object.
 * - `_autoPongComplete`: a closure per socket, the callback of ws's automatic answer to a client's ping, which
 *   takes back the count of answers still being written (`_pendingAutoPongs`, past `maxPendingAutoPongs` ws
 *   terminates the client). Clients rarely ping; here the callback is made when ws asks for it, at a ping, and does
 *   the same. ws's constructor assigns the property: the setter ignores that.
 * - `_events`: node's EventEmitter starts every emitter's listener table as a null-prototype object, which V8 keeps
 *   as a hash table (a 24-byte object and a 256-byte dictionary per socket). Node's own streams start theirs as an
 *   object literal naming the events they expect with no listener yet (`undefined`), which V8 keeps as a plain
 *   object; this does the same for the four events the gateway listens for (56 bytes). EventEmitter reads an
 *   `undefined` entry as no listener (emit, listenerCount; an `error` nobody listens for still throws); removing a
 *   listener turns the table back into a dictionary, at a socket's end.
 */
export class LeanWebSocket extends WebSocket {
  constructor(...args: unknown[]) {
    // ws's server makes it as `new WebSocket(null, undefined, options)`: passed on as given.
    super(...(args as ConstructorParameters<typeof WebSocket>));
    const internals = this as unknown as WebSocketInternals;
    internals._extensions = NO_EXTENSIONS;
    // The four events every gateway client listens for (stream-client.ts); others are added as they come.
    internals._events = { pong: undefined, message: undefined, error: undefined, close: undefined };
  }
}

interface WebSocketInternals {
  _extensions: object;
  _events: Record<string, unknown>;
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
