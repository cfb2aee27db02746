/**
 * Run by heap-growth.test.ts in a fresh node: applies HEAP_GROWTH_PERCENT (argv[2]) as the service does, keeps
 * ~25 MiB live, then churns objects that live long enough to be promoted and die later (as history entries and dedup
 * ids do), and prints the largest old space V8 let itself reach.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { applyHeapGrowthPercent } from '../src/heap-growth.ts';

applyHeapGrowthPercent(Number(process.argv[2]));
const oldSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size;
const live = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `live-${i}-`.repeat(4) }));
const dying: unknown[] = new Array(20_000);
let peakOldBytes = 0;
for (let i = 0; i < 2_000_000; i++) {
  dying[i % dying.length] = { i, text: `gone-${i}-`.repeat(4) };
  if (i % 10_000 === 0) peakOldBytes = Math.max(peakOldBytes, oldSpaceBytes());
}
process.stdout.write(`${JSON.stringify({ live: live.length, peakOldBytes })}\n`);
