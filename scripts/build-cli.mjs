// Bundles src/cli/main.ts into dist/cli.mjs with esbuild. Bundling (not per-file transpiling) lets
// esbuild inline the instruction ids (const enums) so the interpreter's switch compiles to a jump table.
// Code splitting puts each command's module (loaded by main.ts with import()) and the code commands
// share in chunks under dist/cli-chunks/, so a start loads only what its command needs.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli.mjs');
const chunks = join(root, 'dist', 'cli-chunks');
/** Age after which a chunk no build wrote is removed (a process started before a rebuild may still load it). */
const STALE_CHUNK_MS = 10 * 60_000;

/**
 * The newest modification time of the TypeScript sources under `dir`. Paths are joined as strings:
 * path.join on each of some 200 files made V8 optimize node's path normalization, and with
 * --no-concurrent-recompilation (bin/vmlab.mjs) that compile ran on the main thread at every start.
 */
export function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/cli.mjs. */
export async function buildCli() {
  // Loaded only when a build is needed: importing esbuild costs every CLI start tens of milliseconds.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outdir: join(root, 'dist'),
    entryNames: 'cli',
    chunkNames: 'cli-chunks/[name]-[hash]',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: root,
  });
  pruneChunks(new Set(Object.keys(result.metafile.outputs).map((path) => join(root, path))));
  return out;
}

/** Removes the chunks of earlier builds (their names carry a content hash, so each build adds new ones). */
function pruneChunks(written) {
  for (const name of readdirSync(chunks)) {
    const path = join(chunks, name);
    if (written.has(path)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_CHUNK_MS) rmSync(path, { force: true });
    } catch {
      // Removed by a concurrent build.
    }
  }
}

/** Returns the URL of the bundled CLI, building it when missing or older than any source file. */
export async function ensureCliBuilt() {
  const stale = !existsSync(out) || statSync(out).mtimeMs < newestSource(join(root, 'src'));
  if (stale) await buildCli();
  return pathToFileURL(out).href;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildCli();
}
