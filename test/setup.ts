// Runs before every test file (vitest.config.ts): the block translator builds every block entered
// HOT_THRESHOLD times instead of waiting for a start to retire BUILD_BUDGET instructions, so that
// the tests comparing it with the interpreter (co-simulation, the corpus, QEMU comparisons) run
// translated code even in short programs. test/machine/jit-budget.test.ts checks the budget itself.
import { jitDefaults } from '../src/engine/cpu/jit';
import { setMachineV8Flags } from '../src/host/v8-flags';

jitDefaults.buildBudget = 0;
// V8's flags as the CLI and the app set them (host/v8-flags.ts): WebAssembly regions in the baseline
// compiler, and TurboFan compiling on the thread that runs the code in workers started afterwards.
setMachineV8Flags();

// VMLAB_JIT_BACKEND=js runs every test with the translator's JavaScript backend where a test does
// not choose one (the jit-*.test.ts files run both; the default is wasm).
if (process.env.VMLAB_JIT_BACKEND === 'wasm' || process.env.VMLAB_JIT_BACKEND === 'js') jitDefaults.backend = process.env.VMLAB_JIT_BACKEND;
