// Bundles src/cli/main.ts into dist/cli.cjs with esbuild. Bundling (not per-file transpiling) lets
// esbuild inline the instruction ids (const enums) so the interpreter's switch compiles to a jump table.
// The bundle is one CommonJS file so that bin/vmlab.mjs can load it through a V8 code cache
// (scripts/cli-cache.mjs). Each command's module (loaded by main.ts with import()) stays lazy: esbuild
// wraps the modules only dynamic imports reach in functions that evaluate them, and requires their
// packages there, so `vmlab run` evaluates neither zod nor the web server (test/cli/start-modules.test.ts).
// The packages stay outside the bundle (node requires them), except BUNDLED_PACKAGES.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli.cjs');
/** What earlier versions built (an ES-module entry and its chunks), removed once no start can still be loading it. */
const ESM_BUILD = ['cli.mjs', 'cli.mjs.map', 'cli-chunks'];
const ESM_BUILD_STALE_MS = 10 * 60_000;
/**
 * Packages bundled into the CLI instead of required from node_modules: every command loads commander,
 * and in the bundle its code comes from the CLI's code cache (scripts/cli-cache.mjs) instead of
 * being read, parsed and compiled from its seven files at every start (`vmlab run labs/hello/hello.S`:
 * 848 M -> 808 M host instructions; docs/speed.md, "Start-up, seventh pass").
 */
export const BUNDLED_PACKAGES = ['commander'];
/**
 * Imports the bundle turns into stand-ins whose functions require the package at their first call,
 * for an import from any module or from those `importer` matches. A function missing from a list is
 * a build error where a source imports it.
 * - fflate requires worker_threads and builds its tables when loaded (about 60 M host instructions);
 *   it inflates a qcow2 image's compressed clusters, which a run with a raw disk never reads (`vmlab
 *   run` of xv6 to its first instruction: 857 M -> 794 M).
 * - commander requires child_process (with net, dgram and diagnostics_channel, about 11 M) to run a
 *   command's executable subcommands, which vmlab has none of. Only commander's: a stand-in loses
 *   what node's functions carry (promisify(execFile) resolves to stdout and stderr through one).
 */
const LAZY_IMPORTS = [
  { specifier: 'fflate', functions: ['inflateSync'] },
  { specifier: 'node:child_process', importer: /[\\/]node_modules[\\/]commander[\\/]/, functions: ['spawn'] },
];
/** npm rewrites this file at every install that changes node_modules: a bundled package may have changed. */
const PACKAGES_STAMP = join(root, 'node_modules', '.package-lock.json');

/**
 * The newest modification time of the TypeScript sources under `dir`. Paths are joined as strings:
 * path.join on each of some 200 files made V8 optimize node's path normalization at every start (on
 * the main thread, as bin/vmlab.mjs ran node then with --no-concurrent-recompilation).
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

/**
 * `text` with every character past ASCII written as a \u escape. esbuild escapes them in strings,
 * templates and names already (its default charset), but not in the comments it keeps (the
 * privileged spec's section signs, dashes): one such character made the whole 1 MB bundle a
 * two-byte string in V8, decoded from UTF-8 at every start (about 20 M host instructions) and
 * scanned as two-byte source. In a comment the escape is just text.
 */
export function asciiOnly(text) {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether an import of `specifier` (a bare name, possibly with a subpath) is bundled. */
function isBundled(specifier) {
  return BUNDLED_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/** The entry of LAZY_IMPORTS for an import of `specifier` from the file `importer`, if any. */
function lazyImport(specifier, importer) {
  return LAZY_IMPORTS.find((l) => l.specifier === specifier && (l.importer === undefined || l.importer.test(importer)));
}

/** The stand-in for a lazy import of `specifier`: each function it lists requires the package at its first call. */
function lazyStandIn(specifier) {
  const { functions } = LAZY_IMPORTS.find((l) => l.specifier === specifier);
  const load = `let loaded;\nconst load = () => (loaded ??= require(${JSON.stringify(specifier)}));\n`;
  return load + functions.map((f) => `export function ${f}(...args) { return load().${f}(...args); }\n`).join('');
}

/** The modification time of PACKAGES_STAMP, or 0 without one (an installed copy's packages live elsewhere). */
function packagesStamp() {
  try {
    return statSync(PACKAGES_STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds dist/cli.cjs. */
export async function buildCli() {
  // Loaded only when a build is needed: importing esbuild costs every CLI start tens of milliseconds.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Every other package (a bare import that is not node's own module) stays a require().
    plugins: [{
      name: 'external-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (isBundled(args.path)) return undefined;
          const lazy = args.namespace === 'lazy-import' ? undefined : lazyImport(args.path, args.importer);
          return lazy !== undefined ? { path: args.path, namespace: 'lazy-import' } : { path: args.path, external: true };
        });
        b.onLoad({ filter: /.*/, namespace: 'lazy-import' }, (args) => ({ contents: lazyStandIn(args.path), loader: 'js' }));
      },
    }],
    // The few modules that locate files from their own URL (host/worker-build.ts, server/app-build.ts)
    // get the bundle's: CommonJS has no import.meta. The banner comes before esbuild's own
    // "use strict", which must stay the first statement to keep the code strict, as ES modules are.
    banner: { js: '"use strict";\nvar __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__bundleUrl' },
    sourcemap: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
    write: false,
  });
  // Written beside and renamed into place, so that a CLI starting meanwhile reads the old bundle or
  // the new one, never part of one.
  mkdirSync(dirname(out), { recursive: true });
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.path === out ? asciiOnly(file.text) : file.contents);
    renameSync(tmp, file.path);
  }
  for (const name of ESM_BUILD) {
    const path = join(root, 'dist', name);
    try {
      if (Date.now() - statSync(path).mtimeMs > ESM_BUILD_STALE_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Already gone.
    }
  }
  return out;
}

/**
 * Returns the URL of the bundled CLI, building it when missing or older than any source file, this
 * script or the last npm install (which may have changed a bundled package).
 */
export async function ensureCliBuilt() {
  const stale = !existsSync(out) || statSync(out).mtimeMs < Math.max(newestSource(join(root, 'src')), statSync(fileURLToPath(import.meta.url)).mtimeMs, packagesStamp());
  if (stale) await buildCli();
  return pathToFileURL(out).href;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildCli();
}
