/**
 * Preloaded into a server by bench/idle-breakdown.ts (`node --import ./bench/heap-spaces-probe.mjs …`): on each
 * SIGUSR2, appends one JSON line to HEAP_SPACES_OUT with V8's heap spaces (committed, physical and used bytes).
 * Plain JavaScript: node loads it before the built file, without tsx.
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

process.on('SIGUSR2', () => {
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, { physicalBytes: s.physical_space_size, usedBytes: s.space_used_size }]),
  );
  appendFileSync(process.env.HEAP_SPACES_OUT, `${JSON.stringify(spaces)}\n`);
});
