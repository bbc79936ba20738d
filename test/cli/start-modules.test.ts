// What `vmlab run` loads at start: the bundle's chunks (scripts/build-cli.mjs) that the run command's
// chunk imports statically, and the packages they import. Every start pays for compiling and
// evaluating them, so code that only some runs need is imported when the run asks for it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/build';

/** The packages (bare specifiers) the chunk at `path` and the chunks it imports statically import. */
function staticPackages(path: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(path)) return packages;
  seen.add(path);
  const code = readFileSync(path, 'utf8');
  for (const m of code.matchAll(/^(?:import|export)\b[^;'"]*?(?:\bfrom\s*)?["']([^"']+)["'];?$/gm)) {
    const spec = m[1];
    if (spec.startsWith('.')) staticPackages(join(dirname(path), spec), seen, packages);
    else if (!spec.startsWith('node:')) packages.add(spec);
  }
  return packages;
}

describe('vmlab run at start', () => {
  it('loads commander, and neither the disk formats (fflate) nor the schemas (zod) for a run without disks', async () => {
    const build = pathToFileURL(join(REPO_ROOT, 'scripts', 'build-cli.mjs')).href;
    const { ensureCliBuilt } = (await import(build)) as { ensureCliBuilt: () => Promise<string> };
    const entry = fileURLToPath(await ensureCliBuilt());
    const run = /import\(["'](\.\/cli-chunks\/run-[A-Z0-9]+\.mjs)["']\)/.exec(readFileSync(entry, 'utf8'));
    expect(run, 'the run command is a chunk of its own').not.toBeNull();
    const packages = staticPackages(join(dirname(entry), run![1]));
    expect(packages).toContain('commander');
    expect(packages).not.toContain('fflate');
    expect(packages).not.toContain('zod');
  }, 120_000);
});
