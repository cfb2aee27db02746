/**
 * Run by gc-tuning.test.ts in a fresh node: applies the GC settings as the service does (argv[2]:
 * HEAP_GROWTH_PERCENT, argv[3]: GC_CONCURRENT, argv[4]: the cores to assume), keeps ~25 MiB live, then
 * churns objects that live long enough to be promoted and die later (as history entries and dedup ids do), and prints
 * the largest old space V8 let itself reach. Its full collections are what gc-tuning.test.ts watches V8's helper
 * threads through, in a trace of V8's GC events.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { applyGcSettings, type GcSettings } from '../src/gc-tuning.ts';

applyGcSettings(
  { heapGrowthPercent: Number(process.argv[2]), gcConcurrent: (process.argv[3] ?? 'auto') as GcSettings['gcConcurrent'] },
  Number(process.argv[4] ?? 2),
);
const oldSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size;
const live = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `live-${i}-`.repeat(4) }));
const dying: unknown[] = new Array(20_000);
let peakOldBytes = 0;
for (let i = 0; i < 2_000_000; i++) {
  dying[i % dying.length] = { i, text: `gone-${i}-`.repeat(4) };
  if (i % 10_000 === 0) peakOldBytes = Math.max(peakOldBytes, oldSpaceBytes());
}
process.stdout.write(`${JSON.stringify({ live: live.length, peakOldBytes })}\n`);
