#!/usr/bin/env node
// Entry point for `npx vmlab`: runs the bundled CLI, rebuilding it first when a source file is newer.
import { ensureCliBuilt } from '../scripts/build-cli.mjs';

const entry = await ensureCliBuilt();
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
