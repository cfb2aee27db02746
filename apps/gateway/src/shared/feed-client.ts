import type { BusEvent } from '@hookway/bus';
import type { ClientMode } from '@hookway/runtime';
import type { EventFrames, RawRun } from './frames.ts';

/** A connected client as a bot feed sees it. */
export interface FeedClient {
  /** Which kind of client: the feed counts frames written per kind, once per event. */
  readonly clientMode: ClientMode;
  /** Hands over one live event (and its frames, shared by every client); returns true when a frame was written. */
  deliver(event: BusEvent, frames: EventFrames): boolean;
  /**
   * Several live events at once, as one buffer of their raw frames shared with the feed's other clients: true when it
   * was written, false when its socket is closing, undefined when this client takes them one by one instead
   * (`deliver`) — it filters events, is still catching up, already had the first, its socket must be written through
   * ws, or the run would take it past its buffer cap (one by one, it is cut at the exact frame).
   */
  deliverRawRun?(run: RawRun): boolean | undefined;
  /** Several events follow: hold their writes (cork the socket) until `release`, so they leave together. */
  hold(): void;
  release(): void;
  /** Events this client should have had are gone for good: make it reconnect and resume. */
  lostEvents(): void;
  /** The feed's fan-out backlog overflowed before this client got its next event: close it as a slow consumer (true when it was open). */
  fellBehind(): boolean;
}
