#!/usr/bin/env -S node --no-concurrent-recompilation
// Entry point for `npx vmlab`: runs the bundled CLI, rebuilding it first when a source file is newer.
// The shebang gives node the flag of src/host/v8-flags.ts that must be on its command line (V8 reads
// it when it creates the main thread's isolate, where `vmlab run` runs its machine): `npx vmlab`, an
// `npm link`ed or installed `vmlab` and `./bin/vmlab.mjs` start node with it; `node bin/vmlab.mjs`
// without it runs the same, with V8's compiles on background threads.
import { ensureCliBuilt } from '../scripts/build-cli.mjs';

const entry = await ensureCliBuilt();
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
