/**
 * Gathers what is added under one key during one turn of the event loop and sends it together once the turn's I/O
 * has been handled (`setImmediate`), in the order it was added; each `add` settles with its own item's result, or
 * with the error of the whole send. A batch that reaches `maxItems` is sent at once, so one send's work stays
 * bounded; later items under its key start the next batch, which is sent after it.
 *
 * Why: the Redis publish script has a fixed cost per call (the call itself, reading and writing the bot's meta,
 * the trim) beside its cost per event, and the ingress has one per command; a busy bot's webhooks that arrive in
 * one turn share one call (docs/benchmarks.md, "one script call per bot per turn").
 */
export class TurnBatches<Item, Result> {
  private readonly pending = new Map<string, Waiting<Item, Result>[]>();
  private scheduled = false;

  /**
   * @param send sends one key's batch; resolves with one result per item, in order
   * @param maxItems the most items one send carries
   */
  constructor(
    private readonly send: (items: Item[]) => Promise<Result[]>,
    private readonly maxItems: number,
  ) {}

  add(key: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) this.pending.set(key, (batch = []));
      batch.push({ item, resolve, reject });
      if (batch.length >= this.maxItems) {
        this.pending.delete(key);
        this.sendBatch(batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.sendAll);
      }
    });
  }

  private readonly sendAll = (): void => {
    this.scheduled = false;
    const batches = [...this.pending.values()];
    this.pending.clear();
    for (const batch of batches) this.sendBatch(batch);
  };

  private sendBatch(batch: Waiting<Item, Result>[]): void {
    let sending: Promise<Result[]>;
    try {
      sending = this.send(batch.map((w) => w.item));
    } catch (err) {
      sending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    sending.then(
      (results) => {
        if (results.length !== batch.length) {
          const err = new Error(`a batch of ${batch.length} got ${results.length} results`);
          for (const w of batch) w.reject(err);
          return;
        }
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}

interface Waiting<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (err: unknown) => void;
}
