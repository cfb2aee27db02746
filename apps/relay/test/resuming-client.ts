import WebSocket from 'ws';

/**
 * A raw-mode client written the way the README tells clients to behave (examples/raw-client.mjs): it remembers the
 * top-level id of the last event it handled, and when the connection closes it reconnects after a short jittered
 * backoff with `after=<that id>`. It records what a test needs to judge the experience: when each connection opened
 * and closed, every refused upgrade's HTTP status, the events in arrival order and any event seen twice.
 */
export class ResumingClient {
  /** Event ids in the order they arrived, each once. */
  readonly ids: string[] = [];
  /** Events that arrived a second time (the README's client would have handled them twice). */
  duplicates = 0;
  /** `Date.now()` when each connection opened / each open connection closed: opens[i + 1] follows closes[i]. */
  readonly opens: number[] = [];
  readonly closes: number[] = [];
  /** HTTP status of every upgrade that was refused (e.g. 502 from nginx), -1 when there was no answer at all. */
  readonly refused: number[] = [];
  /** `Date.now()` when each connection attempt started (the first, and each after a backoff). */
  readonly attempts: number[] = [];
  /** `recovered` of each resume status frame. */
  readonly resumes: boolean[] = [];
  private readonly seen = new Set<string>();
  private lastId: string | undefined;
  private ws: WebSocket | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    /** The README's backoff: 1–3 s, jittered so that a replica's clients do not all come back at once. */
    private readonly backoffMs: () => number = () => 1000 + Math.random() * 2000,
  ) {
    this.connect();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.ws?.terminate();
  }

  private connect(): void {
    const url = new URL(this.url);
    if (this.lastId) url.searchParams.set('after', this.lastId);
    this.attempts.push(Date.now());
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.opens.push(Date.now());
    });
    ws.on('message', (data) => this.handle(data.toString()));
    ws.on('error', (err) => {
      // ws reports a refused upgrade as "Unexpected server response: <status>"; 'close' follows every error.
      if (!opened) this.refused.push(Number(/Unexpected server response: (\d+)/.exec(err.message)?.[1] ?? -1));
    });
    ws.on('close', () => {
      if (opened) this.closes.push(Date.now());
      if (this.stopped) return;
      this.retry = setTimeout(() => this.connect(), this.backoffMs());
      this.retry.unref();
    });
  }

  private handle(text: string): void {
    const msg = JSON.parse(text) as { hookway?: string; recovered?: boolean; op?: number; id?: string };
    if (msg.hookway === 'resume') return void this.resumes.push(msg.recovered === true);
    if (msg.op !== 0 || typeof msg.id !== 'string') return;
    if (this.seen.has(msg.id)) this.duplicates++;
    else {
      this.seen.add(msg.id);
      this.ids.push(msg.id);
    }
    this.lastId = msg.id;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }
}
