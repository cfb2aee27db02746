import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterTally, HistogramTally } from '../src/metric-tallies.ts';

const BUCKETS = [0.001, 0.005, 0.01, 0.5];

/** The same observations through prom-client's own metric and through the tally: the two expositions must match. */
describe('metric tallies render what prom-client renders for the same observations', () => {
  const counterCases: { name: string; incs: [string, string, number][] }[] = [
    { name: 'nothing counted', incs: [] },
    { name: 'one pair', incs: [['accepted', 'bot1', 1]] },
    {
      name: 'pairs in first-counted order, totals added',
      incs: [
        ['accepted', 'bot1', 1],
        ['duplicate', 'bot2', 1],
        ['accepted', 'bot2', 3],
        ['accepted', 'bot1', 2],
        ['duplicate', 'bot1', 0],
      ],
    },
    { name: 'label values that need escaping', incs: [['a"b\\c\nd', 'x', 1]] },
  ];
  it.each(counterCases)('counter: $name', async ({ incs }) => {
    const theirs = new Registry();
    const ours = new Registry();
    const counter = new Counter({ name: 'c_total', help: 'help', labelNames: ['outcome', 'bot'], registers: [theirs] });
    const tally = new CounterTally({ name: 'c_total', help: 'help', labelNames: ['outcome', 'bot'], registers: [ours] });
    for (const [outcome, bot, by] of incs) {
      counter.inc({ outcome, bot }, by);
      tally.inc(outcome, bot, by);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // A second scrape counts nothing twice.
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  const histogramCases: { name: string; observations: [string, number][] }[] = [
    { name: 'nothing observed', observations: [] },
    { name: 'on a bound (le is inclusive)', observations: [['raw', 0.005]] },
    {
      name: 'under the first bound, and zero',
      observations: [
        ['raw', 0.0001],
        ['raw', 0],
      ],
    },
    { name: 'above the last bound (+Inf only)', observations: [['raw', 7]] },
    {
      name: 'two label values in first-observed order',
      observations: [
        ['gateway', 0.02],
        ['raw', 0.002],
        ['gateway', 0.004],
        ['raw', 0.6],
      ],
    },
  ];
  it.each(histogramCases)('histogram: $name', async ({ observations }) => {
    const theirs = new Registry();
    const ours = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['mode'], buckets: BUCKETS, registers: [theirs] });
    const tally = new HistogramTally({ name: 'h_seconds', help: 'help', labelName: 'mode', buckets: BUCKETS, registers: [ours] });
    for (const [mode, seconds] of observations) {
      histogram.observe({ mode }, seconds);
      tally.observe(mode, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await Registry.merge([new Registry(), ours]).metrics()).toBe(await theirs.metrics());
  });
});
