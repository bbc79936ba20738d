// The technique table's pv column (vmlab compare --pv): a workload of bench/workloads beside its
// para-virtual version (*-pv.S, kernel-pv.inc), the pv one run in pv mode. Same console output and
// exit code as the unmodified kernel bare; forkwait-pv changes its page tables by mmu_update only,
// so pv takes no write-protection fault where trap takes one per page-table store.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleFile, formatDiagnostic } from '../../src/cli/kernel-input';
import { SBI_KERNEL_ADDRESS } from '../../src/engine/machine/boot';
import { compareModes } from '../../src/engine/vmm/compare';
import { Vmm } from '../../src/engine/vmm/vmm';
import type { VmMode } from '../../src/engine/vmm/vm';
import { REPO_ROOT } from '../support/build';

const DIR = join(REPO_ROOT, 'bench', 'workloads');
const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');

function build(file: string, base?: number): Uint8Array {
  const r = assembleFile(join(DIR, file), base === undefined ? {} : { base });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !r.elf) throw new Error(errors.map(formatDiagnostic).join('\n'));
  return r.elf;
}

function stats(kernel: Uint8Array, mode: VmMode) {
  const vmm = new Vmm({ hostRamSize: 512 << 20, jit: false });
  const vm = vmm.createVm({ name: mode, mode, kernel, memSize: 128 << 20 });
  for (let i = 0; i < 200 && vm.state === 'running'; i++) vmm.run(1_000_000);
  return vm;
}

describe('compare with a pv column', () => {
  it('syscall: the pv kernel prints what the unmodified kernel prints bare', () => {
    const rows = compareModes(build('syscall.S'), { modes: ['bare', 'pv'], pvKernel: build('syscall-pv.S', SBI_KERNEL_ADDRESS), warmUpSteps: 0 });
    expect(rows.map((r) => [r.mode, r.end, r.exitCode, r.sameOutput])).toEqual([['bare', 'exit', 0, true], ['pv', 'exit', 0, true]]);
  });

  it('forkwait: every page-table change is an mmu_update in pv, a write-protection fault in trap', () => {
    const trap = stats(build('forkwait.S'), 'trap');
    const pv = stats(build('forkwait-pv.S', SBI_KERNEL_ADDRESS), 'pv');
    expect(pv.exitCode).toBe(0);
    expect(trap.exitCode).toBe(0);
    expect(pv.stats.writeProtectFaults).toBe(0);
    expect(pv.stats.shadowSyncs).toBe(0);
    // 300 rounds of 16 pages: a mapping per fault and 16 clearing entries per round.
    expect(pv.stats.pvPteUpdates).toBe(300 * 16 * 2);
    expect(pv.stats.hypercalls['pv.mmu_update']).toBe(300 * 16 + 300);
    // The shadows follow every mmu_update, so the guest's 300 flushes empty only the hart's TLB: the
    // one time every shadow goes is the first update of a table page no walk had gone through.
    expect(pv.stats.hypercalls['pv.flush']).toBe(300);
    expect(pv.stats.shadowFlushes).toBe(1);
    // Trap mode faults on about every one of those stores (not on a few before it knows the table).
    expect(trap.stats.writeProtectFaults).toBeGreaterThan(300 * 16 * 2 - 16);
  });

  it('the CLI refuses a pv column without a pv kernel, and --pv with several kernels', () => {
    const w = join(DIR, 'syscall.S');
    const a = spawnSync(process.execPath, [VMLAB, 'compare', w, '--modes', 'bare,pv'], { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/pv column needs a kernel written for pv/);
    const b = spawnSync(process.execPath, [VMLAB, 'compare', w, w, '--pv', join(DIR, 'syscall-pv.S')], { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--pv compares one kernel/);
  });
});
