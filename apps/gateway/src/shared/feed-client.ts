import type { BusEvent } from '@hookway/bus';

/** A connected client as a bot feed sees it. */
export interface FeedClient {
  /** Hands over one live event; returns true when it was written to the client's socket. */
  deliver(event: BusEvent): boolean;
  /** Events this client should have had are gone for good: make it reconnect and resume. */
  lostEvents(): void;
}
