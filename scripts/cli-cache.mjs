// Loads the CLI's CommonJS bundle (scripts/build-cli.mjs) through a V8 code cache: the bytecode of
// every function the previous run of the same command compiled, so that a start deserializes it
// instead of parsing and compiling the bundle's code again (docs/speed.md, "Start-up, fourth pass").
//
// The cache is a file per command under dist/cli-cache/: a header that names the bundle it belongs
// to (the CRC-32 and length of the bundle's bytes) and the CRC-32 of V8's data, then the data. V8
// checks its version, its flags and only the source's length, so a rebuilt bundle of the same length
// would pass V8's own check with the old bundle's functions; the bundle's CRC rules that out, and
// the data's rules out a damaged file, which V8 does not checksum (--verify-snapshot-checksum is off
// in release builds). CRC-32 (zlib's, native) rather than a cryptographic hash: node:crypto's
// modules cost a start 4 ms to load, node:zlib's 2. A cache that is missing, stale,
// damaged or that V8 rejects is ignored, and the run writes a new one at exit; writing is best
// effort (a read-only install runs without a cache).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';

const MAGIC = Buffer.from('vmlab-cli-cache-1');
/** The magic, then the bundle's CRC-32 and length and the data's CRC-32 (little-endian words). */
const HEADER_BYTES = MAGIC.length + 12;

/**
 * The flags src/host/v8-flags.ts's setMachineV8Flags sets. V8 stamps a code cache with a hash of
 * its flags at the time the cache is made (at exit, after main set these) and rejects it when the
 * flags differ at load, so they are set before the bundle is compiled. Setting them here changes
 * nothing else: every command sets them first thing.
 */
export const MACHINE_FLAGS = [
  '--liftoff-only', '--no-concurrent-recompilation',
  '--max-inlined-bytecode-size-cumulative=230', '--no-turbo-loop-peeling', '--no-turbo-escape',
];

/**
 * Node's modules the CLI loads, loaded before MACHINE_FLAGS are set. Node's own code cache of its
 * modules is stamped with V8's flags too: once --liftoff-only is set (it changes other flags by
 * implication, and unsetting it does not undo them), every node module loaded afterwards is
 * parsed and compiled from its source (`node -e` with the flag set first, then
 * require('child_process'): 122 M host instructions against 97 M). `vmlab run` loads os and
 * timers/promises; child_process only where a command spawns a process (the bundle's commander
 * requires it at its first spawn, scripts/build-cli.mjs).
 */
const NODE_MODULES = ['node:os', 'node:timers/promises'];

/** The V8 data in `file` if it is a cache of `bundle` and undamaged, else undefined. */
function readCache(file, bundle) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length <= HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = bytes.subarray(HEADER_BYTES);
  const ok = bytes.readUInt32LE(MAGIC.length) === crc32(bundle) && bytes.readUInt32LE(MAGIC.length + 4) === bundle.length
    && bytes.readUInt32LE(MAGIC.length + 8) === crc32(data);
  return ok ? data : undefined;
}

/** Writes the cache file atomically (a concurrent start reads the old file or the new one); best effort. */
function writeCache(file, bundle, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header);
    header.writeUInt32LE(crc32(bundle), MAGIC.length);
    header.writeUInt32LE(bundle.length, MAGIC.length + 4);
    header.writeUInt32LE(crc32(data), MAGIC.length + 8);
    // Not recursive: the folder's parent holds the bundle, and node's recursive mkdir never returns
    // for some paths (under /proc).
    if (!existsSync(dirname(file))) mkdirSync(dirname(file));
    writeFileSync(tmp, Buffer.concat([header, data]));
    renameSync(tmp, file);
  } catch {
    // No cache this time: the next start compiles the bundle as this one did.
  }
}

/** The cache file's name for a start with these arguments: one per command, since each compiles other functions. */
export function cacheName(argv) {
  const command = argv[0] ?? '';
  return `${/^[a-z]{1,16}$/.test(command) ? command : 'default'}.bin`;
}

/**
 * Loads the CommonJS bundle at `bundlePath` with the code cache in `cacheFile` when that is valid,
 * and writes the cache at exit when it was not (no cache at all when `cacheFile` is undefined).
 * Returns the bundle's exports and whether V8 took the cache.
 */
export function loadCli(bundlePath, cacheFile) {
  const require = createRequire(import.meta.url);
  for (const name of NODE_MODULES) require(name);
  for (const flag of MACHINE_FLAGS) setFlagsFromString(flag);
  const bytes = readFileSync(bundlePath);
  const cachedData = cacheFile === undefined ? undefined : readCache(cacheFile, bytes);
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${bytes.toString('utf8')}\n})`;
  const script = new Script(wrapper, { filename: bundlePath, cachedData });
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  // At exit the cache holds every function this run compiled, not only the top level.
  // Making it deoptimizes the bundle's compiled functions (V8's code serializer), after the run.
  if (!cached && cacheFile !== undefined) process.once('exit', () => writeCache(cacheFile, bytes, script.createCachedData()));
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return { exports: module.exports, cached };
}
