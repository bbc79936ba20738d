#!/usr/bin/env node
// Entry point for `npx vmlab`: runs the bundled CLI, rebuilding it first when a source file is newer,
// and loading it through a V8 code cache under dist/cli-cache/ (scripts/cli-cache.mjs).
// Node starts with no flags: `vmlab run` runs its machine on the main thread, where V8 compiles in
// the background (src/host/v8-flags.ts); `npx vmlab`, an `npm link`ed or installed `vmlab`,
// `./bin/vmlab.mjs` and `node bin/vmlab.mjs` all run the same.
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
