import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where `pnpm build` writes the one file to run. */
export const DEFAULT_OUTFILE = `${ROOT}dist/hookway.mjs`;

/**
 * The CommonJS dependencies (ioredis, express, pino) `require()` Node's built-ins and read `__dirname`, neither of
 * which an ES module has: give the bundle both, taken from the bundle's own location, before any of their code runs.
 */
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __hookwayCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hookwayFileUrlToPath } from 'node:url';",
  "import { dirname as __hookwayDirname } from 'node:path';",
  'const require = __hookwayCreateRequire(import.meta.url);',
  'const __filename = __hookwayFileUrlToPath(import.meta.url);',
  'const __dirname = __hookwayDirname(__filename);',
].join('\n');

/**
 * Bundles apps/relay/src/bin.ts and everything it imports (workspace packages and node_modules alike) into one ES
 * module that runs with plain `node` ≥ 20 and no node_modules next to it. Returns the file written.
 */
export async function buildBundle(outfile = DEFAULT_OUTFILE): Promise<string> {
  await build({
    entryPoints: [`${ROOT}apps/relay/src/bin.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    // cli/invocation.ts: help texts name `node dist/hookway.mjs`, not `pnpm hookway`.
    define: { HOOKWAY_BUNDLE: 'true' },
    // ws loads these optional native speed-ups inside try/catch and works without them; never bundle a .node file.
    external: ['bufferutil', 'utf-8-validate'],
    legalComments: 'eof',
    logLevel: 'warning',
  });
  writeFileSync(outfile, asciiOnly(readFileSync(outfile, 'utf8')));
  chmodSync(outfile, 0o755);
  return outfile;
}

/**
 * esbuild escapes non-ASCII characters in code (`charset: 'ascii'`, its default) but keeps comments as written, and
 * ours hold →, —, Chinese. One such character makes V8 hold the whole 3 MB source as a two-byte string for as long
 * as the process runs (6.2 MiB instead of 3.1). Escaping the rest as \uXXXX changes only comment text: in code there
 * is none left to escape.
 */
export function asciiOnly(source: string): string {
  return source.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outfile = await buildBundle(process.argv[2] ?? DEFAULT_OUTFILE);
  process.stdout.write(`built ${outfile}\n`);
}
