#!/usr/bin/env -S node --no-concurrent-recompilation
// Entry point for `npx vmlab`: runs the bundled CLI, rebuilding it first when a source file is newer,
// and loading it through a V8 code cache under dist/cli-cache/ (scripts/cli-cache.mjs).
// The shebang gives node the flag of src/host/v8-flags.ts that must be on its command line (V8 reads
// it when it creates the main thread's isolate, where `vmlab run` runs its machine): `npx vmlab`, an
// `npm link`ed or installed `vmlab` and `./bin/vmlab.mjs` start node with it; `node bin/vmlab.mjs`
// without it runs the same, with V8's compiles on background threads.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCliBuilt } from '../scripts/build-cli.mjs';
import { cacheName, loadCli } from '../scripts/cli-cache.mjs';

const argv = process.argv.slice(2);
const bundle = fileURLToPath(await ensureCliBuilt());
// VMLAB_CLI_CACHE=off: no code cache read or written (V8 deoptimizes the bundle's compiled
// functions when it makes one, at exit; test/cli/interpreter-compiles.test.ts counts V8's events).
const cacheFile = process.env.VMLAB_CLI_CACHE === 'off' ? undefined : join(dirname(bundle), 'cli-cache', cacheName(argv));
const { main } = loadCli(bundle, cacheFile).exports;
process.exitCode = await main(argv);
