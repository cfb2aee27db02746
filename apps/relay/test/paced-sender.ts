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
 * Signed events at a steady rate, as the platform sends them: a new one every 1000/rate ms whether or not the
 * previous ones were answered, with at most `maxInFlight` unanswered (on a starved machine the rate drops instead of
 * requests piling up). Every answer is recorded.
 */
export class PacedSender {
  readonly events: SentEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sender: WebhookSender,
    private readonly ratePerSec: number,
    private readonly maxInFlight = 25,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sendOne(), 1000 / this.ratePerSec);
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
    if (this.inFlight.size >= this.maxInFlight) return;
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
