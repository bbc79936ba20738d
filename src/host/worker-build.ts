// Locates (and in a source checkout, builds) the bundled machine worker. The worker is bundled
// with esbuild so the engine's const enums are inlined, as for the CLI (scripts/build-cli.mjs).

import { existsSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this module whose package.json is vmlab's. */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (true) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'vmlab') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the vmlab project folder above ${from}`);
    dir = parent;
  }
}

/** Newest modification time of the .ts files under `dir`. */
export function newestSource(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Path of out/worker/machine-worker.mjs, rebuilt first when a source file is newer. */
export async function ensureWorkerBuilt(root = projectRoot()): Promise<string> {
  const out = join(root, 'out', 'worker', 'machine-worker.mjs');
  const sources = ['engine', 'host', 'shared'].map((d) => join(root, 'src', d));
  const entry = join(root, 'src', 'host', 'machine-worker.ts');
  if (!existsSync(entry)) {
    if (existsSync(out)) return out;
    throw new Error(`machine worker missing: ${out}`);
  }
  const stale = !existsSync(out) || statSync(out).mtimeMs < Math.max(...sources.map(newestSource));
  if (stale) {
    // Required, not import()ed: the CLI's bundle runs as a vm.Script (bin/vmlab.mjs loads it through
    // a code cache), where an import() of a package fails ("A dynamic import callback was not
    // specified"), so `vmlab serve` could run no machine once a source was newer than the worker.
    const { build } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    // Built under a private name and renamed: concurrent test files may build at the same time,
    // and a worker must never load a half-written file.
    const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp.mjs`;
    await build({
      entryPoints: [entry],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
    renameSync(tmp, out);
  }
  return out;
}
