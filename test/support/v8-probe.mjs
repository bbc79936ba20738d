// Loaded into a vmlab process with `NODE_OPTIONS=--import=<this file>` by test/cli/v8-flags.test.ts:
// at exit, writes to stderr whether V8 compiles the main thread's JavaScript on background threads
// (V8's own answer for this isolate, `%IsConcurrentRecompilationSupported`, which is false when node
// started with --no-concurrent-recompilation).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--allow-natives-syntax');
const concurrent = new Function('return %IsConcurrentRecompilationSupported()');
process.on('exit', () => process.stderr.write(`v8-probe: concurrent recompilation ${concurrent()}\n`));
