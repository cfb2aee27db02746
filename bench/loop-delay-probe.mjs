/**
 * Preloaded into a server by bench/stalls.ts (`node --import ./bench/loop-delay-probe.mjs …`): samples the event
 * loop's delay (perf_hooks, 1 ms resolution) and, on each SIGUSR2, prints one marker line with the delay since the
 * previous marker to stdout — the stream `--trace-gc` writes to — so the driver can cut GC pauses and stalls by phase.
 * Plain JavaScript: node loads it before the built file, without tsx.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 1 });
histogram.enable();
const ms = (ns) => Math.round(ns / 1e4) / 100;
process.on('SIGUSR2', () => {
  const line = {
    maxMs: ms(histogram.max),
    p99Ms: ms(histogram.percentile(99)),
    p999Ms: ms(histogram.percentile(99.9)),
    meanMs: ms(histogram.mean),
    samples: histogram.count,
  };
  process.stdout.write(`@@loop-delay ${JSON.stringify(line)}\n`);
  histogram.reset();
});
