import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { BusEvent } from '@hookway/bus';
import { dispatchFrame } from '@hookway/protocol';
import { envelopeFacts } from './envelope-cache.ts';

/**
 * One text frame as it goes on the wire — header and payload, unmasked as every server frame is — built once and
 * written as the same bytes to every socket that gets it. ws has no public "prepared message", so `writeFrame` writes
 * these bytes straight to the socket only when ws itself would have written exactly them at that moment (see there);
 * otherwise it hands the payload to `ws.send`.
 */
export class PreparedFrame {
  /** Built on the first direct write: a socket that needs `ws.send` never pays for it. */
  private wireBytes: Buffer | undefined;
  constructor(readonly payload: Buffer) {}

  get wire(): Buffer {
    return (this.wireBytes ??= Buffer.concat([textFrameHeader(this.payload.length), this.payload]));
  }
}

/** RFC 6455 §5.2: FIN + opcode 1 (text), no mask, then the 7-bit, 16-bit or 64-bit payload length. */
export function textFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) {
    const header = Buffer.allocUnsafe(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeUIntBE(length, 4, 6);
  return header;
}

/** The parts of a ws WebSocket that decide whether a prepared frame may bypass its Sender (ws 8.x internals). */
interface WsInternals {
  readonly _socket?: Duplex;
  readonly _extensions?: Record<string, unknown>;
  readonly _sender?: { readonly _state?: number; readonly _firstFragment?: boolean; readonly _queue?: readonly unknown[] };
}

/** Whether a socket negotiated no extension (no permessage-deflate): fixed at the handshake, so asked once per client. */
export function isPlainSocket(ws: WebSocket): boolean {
  const internals = ws as unknown as WsInternals;
  return internals._socket !== undefined && internals._extensions !== undefined && Object.keys(internals._extensions).length === 0;
}

/** Whether bytes may go straight to the socket now, where ws itself would have written them at once (see writeFrame). */
function senderIdle(ws: WebSocket, plain: boolean): boolean {
  const sender = (ws as unknown as WsInternals)._sender;
  return plain && sender?._state === 0 && sender._firstFragment === true && sender._queue?.length === 0;
}

/**
 * Writes one prepared frame. ws's Sender, for an unfragmented text message without permessage-deflate, writes
 * `Sender.frame(payload)` = exactly `frame.wire` to the socket at once — unless it is busy (a blob being read, a
 * message being compressed: `_state` ≠ 0, or messages queued behind one), in which case the frame must queue behind
 * them. So the bytes go straight to the socket only when the socket is plain (`isPlainSocket`: the gateway sets
 * `perMessageDeflate: false`, but a compressing socket is never bypassed), the Sender is idle and no fragmented
 * message is half sent; anything else, including a ws whose internals look different, takes `ws.send`. The caller
 * checked `readyState === OPEN`. The callback, as ws's, fires once the bytes are flushed or the socket failed.
 */
export function writeFrame(ws: WebSocket, plain: boolean, frame: PreparedFrame, onFlushed?: () => void): void {
  if (senderIdle(ws, plain)) {
    (ws as unknown as WsInternals)._socket!.write(frame.wire, onFlushed && (() => onFlushed()));
    return;
  }
  ws.send(frame.payload, { binary: false }, onFlushed && (() => onFlushed()));
}

/**
 * Writes a run's frames, joined (RawRun.wire, joined only now if no client asked before), with one socket write —
 * only where writeFrame would have written each of them straight to the socket; false (nothing written, nothing
 * joined) otherwise, and the caller sends them one by one.
 */
export function writeJoinedFrames(ws: WebSocket, plain: boolean, run: Pick<RawRun, 'wire'>): boolean {
  if (!senderIdle(ws, plain)) return false;
  (ws as unknown as WsInternals)._socket!.write(run.wire);
  return true;
}

/** Holds a socket's writes (ws's own included, so order is kept) until `uncork`: several frames leave in one write. */
export function cork(ws: WebSocket): void {
  (ws as unknown as WsInternals)._socket?.cork();
}

export function uncork(ws: WebSocket): void {
  (ws as unknown as WsInternals)._socket?.uncork();
}

/**
 * The frames of one event, each built at most once however many clients get it: the raw bytes (raw clients), and the
 * gateway dispatch for the shared numbering `s = seq − base + 1` with base 0 (every session identified since the
 * numbering became shared; a session resumed from an older record with its own base gets a frame of its own).
 */
export class EventFrames {
  private rawFrame: PreparedFrame | undefined;
  private sharedDispatch: PreparedFrame | null | undefined;

  constructor(readonly event: BusEvent) {}

  raw(): PreparedFrame {
    return (this.rawFrame ??= new PreparedFrame(this.event.body));
  }

  /** The dispatch frame for a session numbered from `base`; null when the event has no `t` (never dispatched). */
  dispatch(base: number): PreparedFrame | null {
    if (base === 0) return (this.sharedDispatch ??= buildDispatch(this.event, 0));
    return buildDispatch(this.event, base);
  }

  /**
   * The live fan-out is done with this event: let go of its frames. They would otherwise live as long as the event
   * in the history (a second copy of every body, each pinning an 8 KiB pool slab: ~13 MiB at the 10 000 events a bot
   * keeps by default), for the rare replay — which builds them again when it asks.
   */
  release(): void {
    this.rawFrame = undefined;
    this.sharedDispatch = undefined;
    // Nor is this object kept: an entry per event in the history (and the table holding them, ~1.5 MiB at 10 000
    // events) for nothing, since a replay after this point builds its frames anew either way.
    if (framesByBody.get(this.event.body) === this) framesByBody.delete(this.event.body);
  }
}

/**
 * Consecutive events of a feed's backlog as one buffer of their raw frames, joined once for every client that gets
 * all of them as they are (an unfiltered raw client), so a pass hands such a client several events with one
 * `socket.write` of shared bytes instead of one buffered write per frame. Joined on first use.
 */
export class RawRun {
  private joined: Buffer | undefined;
  /** Payload bytes in the run (what the clients' buffer cap counts). */
  readonly payloadBytes: number;

  constructor(
    /** Feed numbers of its first and last event (which part of the backlog this is). */
    readonly firstNumber: number,
    readonly lastNumber: number,
    private readonly frames: readonly EventFrames[],
  ) {
    let bytes = 0;
    for (const f of frames) bytes += f.event.body.length;
    this.payloadBytes = bytes;
  }

  get first(): BusEvent {
    return this.frames[0]!.event;
  }

  get last(): BusEvent {
    return this.frames[this.frames.length - 1]!.event;
  }

  get wire(): Buffer {
    if (!this.joined) {
      const parts: Buffer[] = [];
      for (const f of this.frames) {
        const { payload } = f.raw();
        parts.push(textFrameHeader(payload.length), payload);
      }
      this.joined = Buffer.concat(parts);
    }
    return this.joined;
  }
}

function buildDispatch(event: BusEvent, base: number): PreparedFrame | null {
  const facts = envelopeFacts(event);
  if (!facts.t) return null;
  return new PreparedFrame(dispatchFrame(event.seq - base + 1, facts.t, facts.id, facts.rawD));
}

/** By the event's body, as envelope-cache does: a replayed event that is still live shares its frames. */
const framesByBody = new WeakMap<Buffer, EventFrames>();

export function framesOf(event: BusEvent): EventFrames {
  let frames = framesByBody.get(event.body);
  if (!frames || frames.event.seq !== event.seq || frames.event.epoch !== event.epoch) {
    frames = new EventFrames(event);
    framesByBody.set(event.body, frames);
  }
  return frames;
}
