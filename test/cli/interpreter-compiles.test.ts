// V8 compiles the interpreter's `execute` once, in the warm-up, for a run in every mode: a VMM's
// physical harts and a hw VM's switch-in must not meet the compiled code with objects of other
// hidden classes or field kinds. Each such meeting made V8 throw the code away and compile the
// large function again (on the machine's thread, with --no-concurrent-recompilation): trap and bt
// paid 0.15 s at every start (the VMM's hart was made before the warm-up and never widened), hw
// as much (hgatp past 2^31, the guest's features copied onto the hart). Counted from V8's own trace
// of a short run of the VMM bench's compute kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_V8_FLAGS } from '../../src/host/v8-flags';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');

// Stores into the page of the code that runs, each instruction's first run taken by the loop's
// general path (a decode-cache miss) after the first store filled the TLB: the general path's check
// of stores into code stamped in the same epoch, which the warm-up never ran (Linux nommu did, twice
// a boot). Prints 'k'.
const OWN_PAGE = `
  .globl _start
_start:
  la    s1, slot
  li    s0, 3000
1:
  sw    s0, 0(s1)
  sh    s0, 4(s1)
  sb    s0, 6(s1)
  addi  s0, s0, -1
  bnez  s0, 1b
  li    t0, 0x10000000
  li    t1, 'k'
  sb    t1, 0(t0)
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
2: j 2b
  .balign 8
slot: .word 0, 0
`;

/**
 * V8's compiles and deoptimizations of `execute` in `vmlab run KERNEL --mode MODE ...EXTRA`; the run
 * must print `printed` and end with `status`.
 */
function executeEvents(mode: string, kernel = join(REPO_ROOT, 'bench', 'workloads', mode === 'pv' ? 'compute-pv.S' : 'compute.S'), printed = /^exit \d+$/m,
  extra: string[] = [], status = 0, fn = 'execute'): string[] {
  // Without the CLI's code cache: other tests' runs under other V8 flags make V8 refuse it, and
  // making a new one at exit deoptimizes the bundle's compiled functions, execute among them,
  // after the run (V8's code serializer; scripts/cli-cache.mjs).
  // With V8's compiles on the machine's thread, as the app's and the server's workers have them: the
  // count is then exact. In the background, as `vmlab run` has them, V8 may also compile a function's
  // loop on the stack (OSR) while its first compile is under way, depending on the threads' timing;
  // which paths have feedback, what this counts, is the same either way.
  const r = spawnSync(process.execPath, [...WORKER_V8_FLAGS, '--trace-opt', '--trace-deopt', VMLAB, 'run', kernel, '--mode', mode, ...extra], {
    encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26, env: { ...process.env, VMLAB_CLI_CACHE: 'off' },
  });
  expect(r.status, r.stderr).toBe(status);
  // The compute kernel prints its checksum.
  expect(r.stdout + r.stderr).toMatch(printed);
  return r.stdout.split('\n').filter((l) =>
    new RegExp(`completed compiling [^<]*<JSFunction ${fn} `).test(l) ||
    new RegExp(`marking dependent code.*<SharedFunctionInfo ${fn}>`).test(l) ||
    new RegExp(`deoptimizing [^<]*<JSFunction ${fn} `).test(l));
}

describe('the interpreter is compiled once', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'pv', 'hw']) {
    it(`in a run in ${mode}`, () => {
      const events = executeEvents(mode);
      expect(events.length, events.join('\n')).toBe(1);
      expect(events[0]).toMatch(/completed compiling/);
    }, 120_000);
  }

  // The warm-up runs long enough for V8 to compile execute before the guest's first instruction
  // (cpu/warmup.ts, WARM_STEPS): a guest that stops after 10 instructions has it compiled. With
  // 1,500 warm-up steps a hart there was no compile at all in such a run, and a guest's own first
  // slices would decide the compile.
  it('before the guest runs', () => {
    for (const mode of ['bare', 'trap']) {
      const events = executeEvents(mode, undefined, /stopped by --max-insns 10 after 10 steps/, ['--max-insns', '10'], 124);
      expect(events.length, events.join('\n')).toBe(1);
      expect(events[0]).toMatch(/completed compiling/);
    }
  }, 120_000);

  // execute's inner loop in JavaScript (jsRun) is a function of its own, which only harts without
  // the fast run in WebAssembly call: in a process whose machine has it (the default backend), the
  // warm-up leaves jsRun cold too, and V8 never compiles it (about 125 M host instructions of every
  // start); with --no-jit it is compiled once, as execute is.
  it('jsRun only where a hart runs it', () => {
    expect(executeEvents('bare', undefined, undefined, [], 0, 'jsRun')).toEqual([]);
    const events = executeEvents('bare', undefined, undefined, ['--no-jit'], 0, 'jsRun');
    expect(events.length, events.join('\n')).toBe(1);
    expect(events[0]).toMatch(/completed compiling/);
    const again = executeEvents('bare', undefined, undefined, ['--no-jit']);
    expect(again.length, again.join('\n')).toBe(1);
  }, 120_000);

  it('in a run of a kernel that stores into its own code page', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlab-compiles-'));
    const kernel = join(dir, 'own-page.S');
    writeFileSync(kernel, OWN_PAGE);
    const events = executeEvents('bare', kernel, /k/);
    expect(events.length, events.join('\n')).toBe(1);
  }, 120_000);
});
