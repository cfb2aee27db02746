/**
 * Preloaded into a server by bench/idle-heap-diff.ts (`node --import ./bench/heap-snapshot-probe.mjs …`): on each
 * SIGUSR2, writes a V8 heap snapshot to HEAP_SNAPSHOT_DIR/<n>.heapsnapshot (n = 0, 1, …), then an empty <n>.done
 * once the snapshot file is complete. Plain JavaScript: node loads it before the built file, without tsx.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

let taken = 0;
process.on('SIGUSR2', () => {
  const n = taken++;
  writeHeapSnapshot(join(process.env.HEAP_SNAPSHOT_DIR, `${n}.heapsnapshot`));
  writeFileSync(join(process.env.HEAP_SNAPSHOT_DIR, `${n}.done`), '');
});
