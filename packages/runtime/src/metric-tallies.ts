import { Counter, type Metric, type Registry } from 'prom-client';

/**
 * Per-event metrics kept as plain numbers and handed to prom-client only when scraped. prom-client hashes the label
 * object on every `inc`/`observe` (a histogram also makes a closure per call): ~1 µs and ~0.5 KiB of garbage per
 * event for the four metrics every event touches (issue 11's lean hot path). Here a call is two Map lookups on label
 * values the caller already holds (constant strings, bot tags), and the exposition is the same text.
 */

/** One label pair's total. */
interface Total<L extends string> {
  readonly labels: Record<L, string>;
  value: number;
}

/** A counter with two labels, kept as totals by label values (exposed in first-counted order, as prom-client does). */
export class CounterTally<A extends string, B extends string> {
  /** First label's value → second label's value → its total. */
  private readonly byValues = new Map<string, Map<string, Total<A | B>>>();
  private readonly inOrder: Total<A | B>[] = [];
  private readonly labelNames: readonly [A, B];

  constructor(options: { name: string; help: string; labelNames: readonly [A, B]; registers: Registry[] }) {
    this.labelNames = options.labelNames;
    const inOrder = this.inOrder;
    new Counter<A | B>({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: options.registers,
      collect() {
        this.reset();
        for (const total of inOrder) this.inc(total.labels, total.value);
      },
    });
  }

  inc(valueA: string, valueB: string, by = 1): void {
    let byB = this.byValues.get(valueA);
    if (byB === undefined) this.byValues.set(valueA, (byB = new Map<string, Total<A | B>>()));
    let total = byB.get(valueB);
    if (total === undefined) {
      total = { labels: { [this.labelNames[0]]: valueA, [this.labelNames[1]]: valueB } as Record<A | B, string>, value: 0 };
      byB.set(valueB, total);
      this.inOrder.push(total);
    }
    total.value += by;
  }
}

/** One label value's observations: counts per bucket (not cumulative; the last is +Inf), their sum and count. */
interface Observations {
  readonly perBucket: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with one label, exposed as prom-client's Histogram exposes one (`_bucket{le=…}` cumulative, `+Inf`,
 * `_sum`, `_count`, label values in first-observed order); registered as a metric object of its own.
 */
export class HistogramTally<A extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byValue = new Map<string, Observations>();
  private readonly labelName: A;
  private readonly upperBounds: readonly number[];

  constructor(options: { name: string; help: string; labelName: A; buckets: readonly number[]; registers: Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.labelName = options.labelName;
    this.upperBounds = [...options.buckets].sort((x, y) => x - y);
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  observe(value: string, seconds: number): void {
    let observed = this.byValue.get(value);
    if (observed === undefined) {
      observed = { perBucket: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      this.byValue.set(value, observed);
    }
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    observed.perBucket[i]!++;
    observed.sum += seconds;
    observed.count++;
  }

  /** prom-client's metric interface: what a registry renders. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [labelValue, observed] of this.byValue) {
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += observed.perBucket[i]!;
        values.push({ labels: { le, [this.labelName]: labelValue }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf', [this.labelName]: labelValue }, value: observed.count, metricName: `${this.name}_bucket` },
        { labels: { [this.labelName]: labelValue }, value: observed.sum, metricName: `${this.name}_sum` },
        { labels: { [this.labelName]: labelValue }, value: observed.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    this.byValue.clear();
  }
}
