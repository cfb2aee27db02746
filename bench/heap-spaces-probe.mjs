/**
 * Preloaded into a server by bench/idle-breakdown.ts and bench/memory-after-load.ts (`node --import
 * ./bench/heap-spaces-probe.mjs …`): on each SIGUSR2, appends one JSON line to HEAP_SPACES_OUT with V8's heap spaces
 * (committed, physical and used bytes). With HEAP_SPACES_GC=1 and `--expose-gc`, it then collects the whole heap and,
 * once the sweeping is done, appends a second line: what of the first was garbage. Each line of that kind also holds
 * `outsideHeap`: node's external memory and the ArrayBuffers of it (physicalBytes, usedBytes).
 * Plain JavaScript: node loads it before the built file, without tsx.
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const withGc = process.env.HEAP_SPACES_GC === '1' && typeof globalThis.gc === 'function';

function appendSpaces() {
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, { physicalBytes: s.physical_space_size, usedBytes: s.space_used_size }]),
  );
  if (withGc) {
    const { external, arrayBuffers } = process.memoryUsage();
    spaces.outsideHeap = { physicalBytes: external, usedBytes: arrayBuffers };
  }
  appendFileSync(process.env.HEAP_SPACES_OUT, `${JSON.stringify(spaces)}\n`);
}

process.on('SIGUSR2', () => {
  appendSpaces();
  if (!withGc) return;
  globalThis.gc();
  setTimeout(appendSpaces, 500).unref();
});
