import { groupAtMessage, idOf, type WebhookSender } from '@hookway/testkit';

/** One webhook as the platform saw it: when it was sent, when and how it was answered. */
export interface SentEvent {
  readonly id: string;
  readonly sentAtMs: number;
  answeredAtMs?: number;
  /** HTTP status, or -1 when the request failed without an answer. */
  status?: number;
  contentType?: string | null;
  retryAfter?: string | null;
  body?: string;
}

/**
 * Signed events at a steady rate, as the platform sends them: as many as are due since `start()` (a late timer on a
 * busy machine sends the ones it owes), whether or not the previous ones were answered — but at most `maxInFlight`
 * unanswered and never more than a second's worth late: on a starved machine the rate drops instead of requests
 * piling up. Every answer is recorded.
 */
export class PacedSender {
  readonly events: SentEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private startedMs = 0;
  private skipped = 0;

  constructor(
    private readonly sender: WebhookSender,
    private readonly ratePerSec: number,
    private readonly maxInFlight = 25,
  ) {}

  start(): void {
    this.startedMs = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - this.startedMs) * this.ratePerSec) / 1000);
      // More than a second behind (answers too slow for maxInFlight): those events are not sent at all.
      this.skipped = Math.max(this.skipped, due - this.events.length - this.ratePerSec);
      while (this.events.length + this.skipped < due && this.inFlight.size < this.maxInFlight) this.sendOne();
    }, 1000 / this.ratePerSec);
  }

  /** Stops sending and waits for every answer still outstanding. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** The events answered 200, in the order they were sent. */
  acknowledged(): SentEvent[] {
    return this.events.filter((e) => e.status === 200);
  }

  private sendOne(): void {
    const body = groupAtMessage();
    const event: SentEvent = { id: idOf(body), sentAtMs: Date.now() };
    this.events.push(event);
    const answered = this.sender.dispatch(body).then(
      (res) => {
        Object.assign(event, {
          answeredAtMs: Date.now(),
          status: res.status,
          contentType: res.headers.get('content-type'),
          retryAfter: res.headers.get('retry-after'),
          body: res.text,
        });
      },
      () => {
        Object.assign(event, { answeredAtMs: Date.now(), status: -1 });
      },
    );
    const tracked = answered.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}
