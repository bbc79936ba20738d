// The compare view's engine side and `vmlab compare` (issue #7): one kernel in every mode with the
// same inputs; the statistics of a known program equal hand-counted values.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { compareModes } from '../../src/engine/vmm/compare';
import { DEFAULT_COSTS } from '../../src/engine/vmm/stats';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const VMLAB = join(REPO_ROOT, 'bin', 'vmlab.mjs');
const TRAPS = join(REPO_ROOT, 'labs', 'traps', 'traps.S');
const EXPECTED = readFileSync(join(REPO_ROOT, 'labs', 'traps', 'expected-output.txt'), 'latin1');
/** The traps lab's user program makes exactly this many system calls (labs/traps/README.md). */
const SYSCALLS = 8;

const traps = (() => {
  const r = assemble(readFileSync(TRAPS, 'latin1'), { file: 'traps.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.elf;
})();

describe('compareModes', () => {
  it('runs the traps lab bare, in emulate, trap, bt and hw mode with the same output and instruction count', () => {
    const rows = compareModes(traps);
    expect(rows.map((r) => [r.mode, r.end, r.exitCode, r.sameOutput])).toEqual([
      ['bare', 'exit', 0, true], ['emulate', 'exit', 0, true], ['trap', 'exit', 0, true], ['bt', 'exit', 0, true], ['hw', 'exit', 0, true],
    ]);
    for (const r of rows) expect(r.output).toBe(EXPECTED);
    const bare = rows[0];
    expect(rows.map((r) => r.instructions)).toEqual([bare.instructions, bare.instructions, bare.instructions, bare.instructions, bare.instructions]);
    expect(rows.map((r) => r.relative.instructions)).toEqual([1, 1, 1, 1, 1]);
    // trap and bt exit (bt on the user's system calls and device accesses, never on a sensitive
    // instruction of the kernel); every VMM mode costs more modeled cycles than bare.
    expect(rows.map((r) => r.exits > 0)).toEqual([false, false, true, true, true]);
    expect(rows[3].exits).toBeLessThan(rows[2].exits);
    // hw exits less than bt (see the hand count below).
    expect(rows[4].exits).toBeLessThan(rows[3].exits);
    // The kernel runs without paging: a TLB miss walks the G-stage (two levels, one when a device's
    // walk stops at the root); Sv32 over Sv32x4 would read at most 6. Bare walks nothing of the VMM's.
    expect(rows[4].walkRefsPerMiss!).toBeGreaterThan(1);
    expect(rows[4].walkRefsPerMiss!).toBeLessThanOrEqual(2);
    expect(rows[0].walkRefsPerMiss).toBeNull();
    for (const r of rows.slice(1)) expect(r.relative.modeledCycles!).toBeGreaterThan(1);
    // The breakdown adds up to the total.
    for (const r of rows) expect(Object.values(r.breakdown).reduce((a, b) => a + b, 0)).toBe(r.modeledCycles);
    // Both VMM modes count the guest's device accesses alike: one UART load of LSR and one store to
    // THR per console byte, and the store that ends the run; the boot ROM's fetches and loads are
    // the machine's boot, not the guest's.
    for (const r of rows.slice(1)) expect(r.breakdown.devices).toBe((2 * EXPECTED.length + 1) * DEFAULT_COSTS.deviceAccess);
  });

  it('counts every instruction of a run that ends on its budget, in every mode', () => {
    const spin = assemble('.globl _start\n_start:\n  addi a0, a0, 1\n  j _start\n', { file: 'spin.S' }).elf!;
    // The budget covers the boot ROM too, which trap mode runs on the virtual hart before loading the VM.
    for (const maxSteps of [5000, 1_234_567]) {
      const rows = compareModes(spin, { maxSteps, memSize: 16 << 20 });
      expect(rows.map((r) => [r.mode, r.end, r.instructions])).toEqual([['bare', 'budget', maxSteps], ['emulate', 'budget', maxSteps], ['trap', 'budget', maxSteps], ['bt', 'budget', maxSteps], ['hw', 'budget', maxSteps]]);
      expect(rows[2].breakdown.instructions).toBe(maxSteps);
      expect(rows[3].breakdown.instructions).toBe(maxSteps);
      // spin touches no device: no VMM mode counts a device access.
      expect(rows.slice(1).map((r) => r.breakdown.devices)).toEqual([0, 0, 0, 0]);
    }
  });

  it('counts what a student can count by hand in the traps lab (trap mode)', () => {
    const vmm = new Vmm({ hostRamSize: 256 << 20 });
    const out: number[] = [];
    const vm = vmm.createVm({ name: 'traps', mode: 'trap', kernel: traps, memSize: 128 << 20, onUart: (b) => out.push(b) });
    while (vm.runnable) vmm.runVm(vm, 1_000_000);
    expect(vm.state).toBe('halted');
    const s = vm.stats;
    // Every system call is an ecall from U-mode, delegated to the guest kernel: reflected once each.
    expect(s.reflected).toEqual({ exception8: SYSCALLS });
    // The kernel returns from each with sret; M-mode entered the kernel with one mret.
    expect([s.emulated.sret, s.emulated.mret]).toEqual([SYSCALLS, 1]);
    // Every console byte is one emulated store to THR after one load of LSR; one more store ends the run.
    expect([s.emulated['mmio-load'], s.emulated['mmio-store']]).toEqual([EXPECTED.length, EXPECTED.length + 1]);
    expect(s.exits[8]).toBe(SYSCALLS);
  });
});

describe('hw mode statistics', () => {
  it('counts what a student can count by hand in the traps lab (hw mode)', () => {
    const vmm = new Vmm({ hostRamSize: 512 << 20 });
    const vm = vmm.createVm({ name: 'traps', mode: 'hw', kernel: traps, memSize: 128 << 20, onUart: () => undefined });
    while (vm.runnable) vmm.runVm(vm, 1_000_000);
    expect(vm.state).toBe('halted');
    const s = vm.stats;
    // System calls go from VU to the guest kernel in hardware (it delegated them), and the kernel's
    // sret and CSR accesses run in VS-mode: nothing is reflected or emulated but devices and M-mode.
    expect(s.exits[8]).toBe(0);
    expect(s.reflected).toEqual({});
    expect(Object.keys(s.emulated).sort()).toEqual(['mmio-load', 'mmio-store', 'virtual-m']);
    // Every exit is a device access from S- or U-mode, a guest-page fault on the UART's page: one load
    // of LSR and one store to THR per byte the kernel prints (M-mode's are interpreted, no exit).
    const exits = [...s.exits.entries()].filter(([, n]) => n > 0).map(([cause]) => cause);
    expect(exits).toEqual([21, 23]);
    expect([s.exits[21], s.exits[23]]).toEqual([s.emulated['mmio-load'], s.emulated['mmio-store']]);
    // Retired instructions by privilege are exact: the same as trap mode counts them.
    const trap = vmm.createVm({ name: 'traps-trap', mode: 'trap', kernel: traps, memSize: 128 << 20, onUart: () => undefined });
    while (trap.runnable) vmm.runVm(trap, 1_000_000);
    expect(s.retired).toEqual(trap.stats.retired);
    expect(s.deviceAccesses).toBe(trap.stats.deviceAccesses);
  });
});

describe('vmlab compare', () => {
  const vmlab = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [VMLAB, ...args], { encoding: 'latin1', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('prints one row per mode, and the same figures as JSON', () => {
    const text = vmlab(['compare', TRAPS]);
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^mode +end +exit +instructions/);
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 3))).toEqual([['bare', 'exit', '0'], ['emulate', 'exit', '0'], ['trap', 'exit', '0'], ['bt', 'exit', '0'], ['hw', 'exit', '0']]);
    const json = vmlab(['compare', TRAPS, '--json', '--modes', 'bare,trap']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { mode: string; instructions: number; exits: number; modeledCycles: number; outputBytes: number }[];
    const engine = compareModes(traps, { modes: ['bare', 'trap'] });
    expect(rows.map((r) => [r.mode, r.instructions, r.exits, r.modeledCycles, r.outputBytes])).toEqual(
      engine.map((r) => [r.mode, r.instructions, r.exits, r.modeledCycles, r.output.length]));
  });

  it('refuses an unknown mode and a missing kernel with exit code 2', () => {
    const bad = vmlab(['compare', TRAPS, '--modes', 'bare,warp']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("got 'bare,warp'")]);
    const missing = vmlab(['compare', '/nonexistent/kernel.elf']);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('/nonexistent/kernel.elf')]);
  });
});
