// V8 compiles the interpreter's `execute` once, in the warm-up, for a run in every mode: a VMM's
// physical harts and a hw VM's switch-in must not meet the compiled code with objects of other
// hidden classes or field kinds. Each such meeting made V8 throw the code away and compile the
// large function again on the machine's thread (--no-concurrent-recompilation): trap and bt
// paid 0.15 s at every start (the VMM's hart was made before the warm-up and never widened), hw
// as much (hgatp past 2^31, the guest's features copied onto the hart). Counted from V8's own trace
// of a short run of the VMM bench's compute kernel.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_V8_FLAGS } from '../../src/host/v8-flags';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');

/** V8's compiles and deoptimizations of `execute` in `vmlab run KERNEL --mode MODE`. */
function executeEvents(mode: string): string[] {
  const kernel = join(REPO_ROOT, 'bench', 'workloads', mode === 'pv' ? 'compute-pv.S' : 'compute.S');
  const r = spawnSync(process.execPath, [...NODE_V8_FLAGS, '--trace-opt', '--trace-deopt', VMLAB, 'run', kernel, '--mode', mode], {
    encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26,
  });
  expect(r.status, r.stderr).toBe(0);
  // The kernel prints its checksum.
  expect(r.stdout).toMatch(/^exit \d+$/m);
  return r.stdout.split('\n').filter((l) =>
    /completed compiling [^<]*<JSFunction execute /.test(l) ||
    /marking dependent code.*<SharedFunctionInfo execute>/.test(l) ||
    /deoptimizing [^<]*<JSFunction execute /.test(l));
}

describe('the interpreter is compiled once', () => {
  for (const mode of ['bare', 'emulate', 'trap', 'bt', 'pv', 'hw']) {
    it(`in a run in ${mode}`, () => {
      const events = executeEvents(mode);
      expect(events.length, events.join('\n')).toBe(1);
      expect(events[0]).toMatch(/completed compiling/);
    }, 120_000);
  }
});
