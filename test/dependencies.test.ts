import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const workspaces = ['apps', 'packages'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * What ships (Dockerfile: `pnpm install --prod`) only has `dependencies`: every package a runtime source file
 * imports must be listed there, not under devDependencies.
 */
describe.each(workspaces.map((w) => [w.slice(ROOT.length), w]))('%s', (_name, workspace) => {
  it('declares every package its src imports as a runtime dependency', () => {
    const manifest = JSON.parse(readFileSync(join(workspace, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const declared = new Set(Object.keys(manifest.dependencies ?? {}));
    const missing = new Set<string>();
    for (const file of sourceFiles(join(workspace, 'src'))) {
      for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^'.][^']*)'/gm)) {
        if (specifier!.startsWith('node:') || builtinModules.includes(specifier!)) continue;
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        if (!declared.has(name)) missing.add(name);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
