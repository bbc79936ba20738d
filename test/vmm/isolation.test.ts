// Fault isolation (docs/vmm.md): hostile guests in trap, bt, emulate and hw mode — wild stores over the whole address
// space, random instruction words, a trap storm — never escape their frames, never stop the VMM,
// and leave a well-behaved neighbour exactly as it runs alone.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FREE } from '../../src/engine/vmm/frames';
import type { Vm, VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { loadKernelFile } from '../../src/cli/kernel-input';
import { ASM_DIR, REPO_ROOT, buildGuest } from '../support/build';
import { gnuAssemble } from '../support/gnu-as';

const MEM = 4 << 20;

/** M-mode handler that skips the faulting 4-byte instruction and returns. */
const SKIP_HANDLER = `
.align 2
skip:
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret
`;

/** Stores pseudo-random words at pseudo-random addresses of the whole 32-bit space, forever. */
const WILD_STORES = `
.option norvc
.globl _start
_start:
  la t0, skip
  csrw mtvec, t0
  li s0, 12345
  li s1, 1103515245
1:
  mul s0, s0, s1
  addi s0, s0, 1234
  mv a0, s0
  mul s0, s0, s1
  addi s0, s0, 1234
  sw s0, 0(a0)
  sb s0, 3(a0)
  j 1b
${SKIP_HANDLER}`;

/** Skips faults and jumps into a page of random words appended by the test. */
const RANDOM_WORDS = `
.option norvc
.globl _start
_start:
  la t0, skip
  csrw mtvec, t0
  la t0, words
  jr t0
${SKIP_HANDLER}
.align 12
words:
`;

/** mtvec stays 0 (not RAM), then an ecall: every trap traps again. */
const TRAP_STORM = `
.globl _start
_start:
  csrw mtvec, zero
  ecall
`;

function randomWords(seed: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 4);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = s >>> 16;
  }
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

let hello: Uint8Array;

beforeAll(async () => {
  hello = new Uint8Array(readFileSync(await buildGuest(join(ASM_DIR, 'hello.S'))));
}, 300_000);

/** Hash of a VM's guest RAM as its frames hold it. */
function ramHash(vmm: Vmm, vm: Vm): string {
  const h = createHash('sha256');
  for (const { hpa } of vm.pmap.entries()) {
    const off = vmm.host.ramOffset(hpa, 4096);
    h.update(vmm.host.ram.subarray(off, off + 4096));
  }
  return h.digest('hex');
}

function runGood(neighbours: { name: string; kernel: Uint8Array; mem?: number }[], mode: VmMode): { output: string; hash: string; vmm: Vmm; vms: Vm[] } {
  const vmm = new Vmm({ hostRamSize: 96 << 20, quantum: 20_000 });
  const out: number[] = [];
  const good = vmm.createVm({ name: 'good', mode, kernel: hello, memSize: MEM, onUart: (b) => out.push(b), placement: 'scattered' });
  const vms = neighbours.map((n) => vmm.createVm({ name: n.name, mode, kernel: n.kernel, memSize: n.mem ?? MEM, placement: 'scattered' }));
  for (let i = 0; i < 200 && good.state === 'running'; i++) vmm.run(200_000);
  // Keep the hostile guests going a while after the good one finished.
  for (let i = 0; i < 60 && vms.some((v) => v.name === 'scribble' && v.state === 'running'); i++) vmm.run(1_000_000);
  vmm.run(500_000);
  return { output: Buffer.from(out).toString('latin1'), hash: ramHash(vmm, good), vmm, vms: [good, ...vms] };
}

describe.each(['trap', 'bt', 'emulate', 'hw'] as const)('isolation in %s mode', (mode) => {
  it('ends as crashed a guest stuck at an address that is neither RAM nor the boot ROM, with another VM running between its slices', () => {
    // Slices shorter than the storm limit: the stuck guest is switched out and in again many times
    // before 10,000 traps have passed (trap mode once took pc 0 in M-mode for the boot ROM at every
    // switch-in, interpreted 64 steps per slice and never saw the storm).
    const vmm = new Vmm({ hostRamSize: 64 << 20, quantum: 2_000 });
    const storm = vmm.createVm({ name: 'storm', mode, kernel: gnuAssemble(TRAP_STORM), memSize: MEM });
    const spin = vmm.createVm({ name: 'spin', mode, kernel: gnuAssemble('.globl _start\n_start:\n  j _start\n'), memSize: MEM });
    for (let i = 0; i < 200 && storm.state === 'running'; i++) vmm.run(20_000);
    expect(storm.state).toBe('crashed');
    expect(storm.crashReason).toMatch(/trap|no instruction completed/);
    expect(spin.state).toBe('running');
  });

  it('keeps a guest beside wild stores, random instructions, a trap storm and the scribble lab as it runs alone', () => {
    const solo = runGood([], mode);
    const hostile = [
      { name: 'wild', kernel: gnuAssemble(WILD_STORES) },
      { name: 'random', kernel: concat(gnuAssemble(RANDOM_WORDS), randomWords(7, 1024)) },
      { name: 'storm', kernel: gnuAssemble(TRAP_STORM) },
      // The lecture's scribbler: random bytes at random guest-physical addresses until it dies.
      { name: 'scribble', kernel: loadKernelFile(join(REPO_ROOT, 'labs', 'scribble', 'scribble.S')), mem: 16 << 20 },
    ];
    const crowd = runGood(hostile, mode);
    expect(crowd.output).toBe(solo.output);
    expect(crowd.hash).toBe(solo.hash);
    const [good, , , storm, scribble] = crowd.vms;
    expect(good.state).toBe('halted');
    expect(storm.state).toBe('crashed');
    expect(scribble.state).toBe('crashed');
    expect(storm.crashReason).toMatch(/trap|no instruction completed/);
    // No frame outside a VM or the VMM's own tables was written.
    const { frames, host } = crowd.vmm;
    const written: number[] = [];
    for (let i = 0; i < frames.count; i++) {
      if (frames.owner[i] !== FREE) continue;
      const word = host.ramOffset(frames.address(i), 4096) >> 2;
      for (let k = 0; k < 1024; k++) {
        if (host.ram32[word + k] !== 0) {
          written.push(i);
          break;
        }
      }
    }
    expect(written).toEqual([]);
  });
});
