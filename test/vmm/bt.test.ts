// bt mode (docs/vmm.md): the VMM translates the guest kernel block by block, sensitive instructions
// become callouts, translated pages are write-protected so self-modifying code and DMA drop stale
// blocks; the guest sees exactly what it sees bare (output, instruction counts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine } from '../../src/engine/machine/machine';
import { scanBlock } from '../../src/engine/vmm/bt/translate';
import { BtVcpu } from '../../src/engine/vmm/bt/bt-vcpu';
import { DEFAULT_COSTS, modeledCycles } from '../../src/engine/vmm/stats';
import type { Vm, VmMode } from '../../src/engine/vmm/vm';
import { Vmm } from '../../src/engine/vmm/vmm';
import { REPO_ROOT } from '../support/build';

const MiB = 1024 * 1024;

function asm(source: string, file = 'guest.S'): Uint8Array {
  const r = assemble(source, { file });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  return r.elf;
}

/** Runs `elf` bare to its end; returns console output, exit code and instructions retired. */
function bare(elf: Uint8Array, cpu = {}): { output: string; exitCode: number | undefined; instret: number } {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 * MiB, cpu, onUart: (b) => out.push(b) });
  m.loadKernel(elf);
  for (let i = 0; i < 100 && m.exitCode === undefined; i++) m.run(1_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: m.exitCode, instret: m.hart.instret };
}

/** Creates a VM of `elf` in `mode` (not yet run). */
function vmOf(elf: Uint8Array, mode: VmMode, cpu = {}): { vmm: Vmm; vm: Vm; out: number[] } {
  const vmm = new Vmm({ hostRamSize: 64 * MiB });
  const out: number[] = [];
  const vm = vmm.createVm({ name: 'g', mode, kernel: elf, memSize: 16 * MiB, cpu, onUart: (b) => out.push(b) });
  return { vmm, vm, out };
}

function runToEnd(elf: Uint8Array, mode: VmMode, cpu = {}): { output: string; exitCode: number | undefined; vm: Vm } {
  const { vmm, vm, out } = vmOf(elf, mode, cpu);
  for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
  return { output: Buffer.from(out).toString('latin1'), exitCode: vm.exitCode, vm };
}

const UART_AND_EXIT = `
.equ UART, 0x10000000
.equ FINISHER, 0x100000
.macro PUTDIGIT reg
  addi t6, \\reg, '0'
  li t5, UART
  sb t6, 0(t5)
.endm
.macro EXIT
  li t5, FINISHER
  li t6, 0x5555
  sw t6, 0(t5)
1: j 1b
.endm
`;

// A kernel (M-mode) that rewrites the first instruction of a routine it already ran, once without
// fence.i and once with it: `li a0, 1` becomes `li a0, 2`, then `li a0, 3`.
const SMC = `${UART_AND_EXIT}
.option norvc
.globl _start
_start:
  call f
  PUTDIGIT a0
  la t0, f
  li t1, 0x00200513
  sw t1, 0(t0)
  call f
  PUTDIGIT a0
  li t1, 0x00300513
  sw t1, 0(t0)
  fence.i
  call f
  PUTDIGIT a0
  EXIT
.balign 4
f:
  li a0, 1
  ret
`;

describe('bt: self-modifying kernel code', () => {
  test('a rewritten routine runs its new code with and without fence.i, as bare', () => {
    const elf = asm(SMC);
    const b = bare(elf);
    expect(b.output).toBe('123');
    for (const mode of ['trap', 'bt'] as const) {
      const r = runToEnd(elf, mode);
      expect({ output: r.output, exitCode: r.exitCode, instructions: r.vm.stats.instructions }).toEqual({ output: b.output, exitCode: b.exitCode, instructions: b.instret });
    }
    const { vm } = runToEnd(elf, 'bt');
    // Both stores hit the page holding translated code: each faults, is emulated, and drops f's block.
    expect(vm.stats.emulated['code-page-store']).toBe(2);
    expect(vm.stats.translationInvalidations).toBe(2);
    expect(vm.stats.writeProtectFaults).toBe(2);
  });

  test('the invalidation history names the blocks each store dropped', () => {
    const elf = asm(SMC);
    const { vmm, vm } = vmOf(elf, 'bt');
    for (let i = 0; i < 10 && vmm.active; i++) vmm.run(1_000_000);
    const cache = (vmm.vcpu(vm) as BtVcpu).cache;
    const inv = cache.invalidations();
    expect(inv.map((x) => [x.cause, x.length, x.blocks.length])).toEqual([['store', 4, 1], ['store', 4, 1]]);
    expect(inv[0].gpa).toBe(inv[1].gpa);
    expect(inv[0].blocks).toEqual([inv[0].gpa]);
  });
});

describe('bt: DMA into translated code', () => {
  // The kernel runs f, then waits for the host to set `flag` (as a disk's DMA would complete), then
  // runs f again: the DMA that rewrote f must drop its translation.
  const WAIT = `${UART_AND_EXIT}
.option norvc
.globl _start
_start:
  call f
  PUTDIGIT a0
  la t0, flag
1:
  lw t1, 0(t0)
  beqz t1, 1b
  call f
  PUTDIGIT a0
  EXIT
.balign 4
f:
  li a0, 1
  ret
.balign 4
flag:
  .word 0
`;

  test('a device write into a translated page drops its blocks; the kernel runs the new code', () => {
    const elf = asm(WAIT);
    const r = assemble(WAIT, { file: 'wait.S' });
    const sym = (n: string) => r.symbols.find((s) => s.name === n)!.address;
    const { vmm, vm, out } = vmOf(elf, 'bt');
    for (let i = 0; i < 20 && out.length === 0; i++) vmm.run(10_000);
    vmm.run(10_000);
    expect(Buffer.from(out).toString('latin1')).toBe('1');
    const dma = vm.machine.board.dma;
    expect(dma.write(sym('f'), new Uint8Array([0x13, 0x05, 0x70, 0x00]))).toBe(true); // li a0, 7
    expect(dma.store(sym('flag'), 4, 1)).toBe(true);
    for (let i = 0; i < 20 && vmm.active; i++) vmm.run(100_000);
    expect({ output: Buffer.from(out).toString('latin1'), exitCode: vm.exitCode }).toEqual({ output: '17', exitCode: 0 });
    const cache = (vmm.vcpu(vm) as BtVcpu).cache;
    // The write into f dropped f's block; the flag beside it dropped none.
    expect(cache.invalidations().filter((x) => x.cause === 'dma').map((x) => x.blocks)).toEqual([[sym('f')]]);
  });
});

describe('bt: callouts instead of exits', () => {
  const traps = asm(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), 'traps.S');

  test('the traps lab: the same instructions by privilege as trap mode; its kernel\'s sensitive instructions are callouts, not exits', () => {
    const trap = runToEnd(traps, 'trap').vm.stats;
    const bt = runToEnd(traps, 'bt').vm.stats;
    expect(bt.retired).toEqual(trap.retired);
    // Trap mode exits on every privileged instruction of the kernel (illegal instruction, cause 2);
    // bt never does: each is a callout of its kind.
    expect(trap.exits[2]).toBeGreaterThan(0);
    expect(bt.exits[2]).toBe(0);
    expect(bt.calloutKinds.sret).toBe(trap.emulated.sret);
    expect(bt.calloutKinds.mret).toBe(trap.emulated.mret);
    expect(bt.calloutKinds.csr).toBe(trap.emulated.csr);
    expect(bt.callouts).toBe(Object.values(bt.calloutKinds).reduce((a, b) => a + b, 0));
    // The user's system calls still exit (user code runs directly) and are reflected alike.
    expect(bt.exits[8]).toBe(trap.exits[8]);
    expect(bt.reflected).toEqual(trap.reflected);
    // Blocks were translated once each and found again in the cache; chained jumps skipped lookups.
    expect(bt.translatedBlocks).toBeGreaterThan(0);
    expect(bt.translationHits + bt.chainedJumps).toBeGreaterThan(bt.translatedBlocks);
    expect(bt.chainedJumps).toBeGreaterThan(0);
  });

  test('the traps lab by hand: each exit trap mode takes for a kernel instruction is one callout in bt; the cost model charges them as docs/vmm.md cites', () => {
    const trap = runToEnd(traps, 'trap').vm.stats;
    const bt = runToEnd(traps, 'bt').vm.stats;
    // The kernel's 59 privileged instructions (50 CSR accesses, 8 sret, 1 mret) exit in trap mode
    // as illegal instructions; in bt they are callouts. bt adds one exit per kernel store into a
    // page holding translated code (its data shares pages with its code): write-protected, emulated.
    expect(bt.calloutKinds).toEqual({ csr: 50, sret: 8, mret: 1 });
    expect(trap.exits[2]).toBe(59);
    expect(bt.exits[2]).toBe(0);
    const codeStores = bt.emulated['code-page-store'];
    expect(codeStores).toBeGreaterThan(0);
    expect(bt.exits[15] - trap.exits[15]).toBe(codeStores);
    expect(bt.exitCount).toBe(trap.exitCount - 59 + codeStores);
    expect(bt.writeProtectFaults - trap.writeProtectFaults).toBe(codeStores);
    // 1,000 cycles per exit (Adams & Agesen 2006) against 40 per callout and 3,000 per translated block.
    const t = modeledCycles(trap, false);
    const b = modeledCycles(bt, false);
    expect(DEFAULT_COSTS).toMatchObject({ exit: 1000, callout: 40, translatedBlock: 3000, emulatedInstruction: 200 });
    expect(b.breakdown.translation).toBe(bt.translatedBlocks * 3000 + 59 * 40);
    expect(t.breakdown.translation).toBe(0);
    expect(b.breakdown.exits - t.breakdown.exits).toBe((codeStores - 59) * 1000);
    // A callout runs trap mode's emulation routine, counted alike; the code-page stores are emulated too.
    expect(b.breakdown.emulation - t.breakdown.emulation).toBe(codeStores * 200);
  });

  test('a reset by the user starts the translation cache cold and counts the same again', () => {
    const { vmm, vm } = vmOf(traps, 'bt');
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
    const first = JSON.stringify({ ...vm.stats.toJSON(), wallMs: 0 });
    vmm.restartVm(vm);
    expect((vmm.vcpu(vm) as BtVcpu).cache.size).toBe(0);
    for (let i = 0; i < 100 && vmm.active; i++) vmm.run(1_000_000);
    expect(JSON.stringify({ ...vm.stats.toJSON(), wallMs: 0 })).toBe(first);
  });
});

describe('bt: translation', () => {
  test('a block goes on after its CSR callout when the VMM says so, and ends at the ret; golden text', () => {
    // addi a0, a0, 1 ; csrr t0, sstatus ; addi a0, a0, 2 ; ret
    const words = [0x00150513, 0x100022f3, 0x00250513, 0x00008067];
    const r16 = new Uint16Array(words.flatMap((w) => [w & 0xffff, w >>> 16]));
    const scan = scanBlock(r16, 0, 0x80000000 | 0, { c: true, m: true, a: true, xsensitive: true });
    expect(scan.length).toBe(4);
    expect(scan.insns.map((i) => i.callout)).toEqual([-1, 0, -1, -1]);
    expect(scan.source).toBe(readFileSync(join(__dirname, 'golden', 'bt-csr-block.js'), 'latin1'));
  });

  // Guest code as GNU as 2.40 encodes it (riscv64-unknown-elf-as -march=rv32imac_zicsr_zifencei;
  // rdpriv and setsie are the Xsensitive encodings of docs/reference.md), [word, size] at `pc`.
  const GOLDEN: { name: string; pc: number; code: [number, number][]; length: number; callouts: number[] }[] = [
    // lw a0, 8(sp); addi a0, a0, 1; sw a0, 8(sp); sret; addi a0, a0, 1 (after the callout: not in the block)
    { name: 'load-store-sret', pc: 0x80001000, code: [[0x00812503, 4], [0x00150513, 4], [0x00a12423, 4], [0x10200073, 4], [0x00150513, 4]], length: 4, callouts: [-1, -1, -1, 2] },
    // slli t0, t1, 3; add t0, t0, t2; bnez t0, .-8 (a branch ends the block, no callout)
    { name: 'branch', pc: 0x80001014, code: [[0x00331293, 4], [0x007282b3, 4], [0xfe029ce3, 4]], length: 3, callouts: [-1, -1, -1] },
    // rdpriv a0; setsie a1 (the block goes on after rdpriv when the VMM says so; setsie ends it)
    { name: 'rdpriv', pc: 0x80001000, code: [[0x0000050b, 4], [0x0005900b, 4]], length: 2, callouts: [7, 8] },
    // fence.i (no code: stores into translated code fault); sfence.vma; nop
    { name: 'fence-i-sfence', pc: 0x80001020, code: [[0x0000100f, 4], [0x12000073, 4], [0x00000013, 4]], length: 2, callouts: [-1, 4] },
    // c.li a0, 1; c.lw a1, 0(a0); c.ebreak (the callout gets the 16-bit encoding)
    { name: 'compressed-ebreak', pc: 0x8000102c, code: [[0x4505, 2], [0x410c, 2], [0x9002, 2]], length: 3, callouts: [-1, -1, 6] },
    // lr.w t0, (a0); sc.w t1, a1, (a0); amoswap.w.aq t1, t0, (s2); amoadd.w zero, a1, (a0);
    // amomaxu.w a2, a2, (a0); c.ret (atomics are translated inline: the block ends at the ret)
    { name: 'atomics', pc: 0x80001040, code: [[0x100522af, 4], [0x18b5232f, 4], [0x0c59232f, 4], [0x00b5202f, 4], [0xe0c5262f, 4], [0x8082, 2]], length: 6, callouts: [-1, -1, -1, -1, -1, -1] },
  ];

  test.each(GOLDEN.map((g) => [g.name, g] as const))('golden text of a block: %s', (name, g) => {
    const r16 = new Uint16Array(g.code.flatMap(([w, size]) => (size === 4 ? [w & 0xffff, w >>> 16] : [w])));
    const scan = scanBlock(r16, 0, g.pc | 0, { c: true, m: true, a: true, xsensitive: true });
    expect(scan.length).toBe(g.length);
    expect(scan.insns.map((i) => i.callout)).toEqual(g.callouts);
    expect(scan.insns.map((i) => i.pc >>> 0)).toEqual(g.code.slice(0, g.length).map((_c, k) => g.pc + g.code.slice(0, k).reduce((a, [, size]) => a + size, 0)));
    expect(scan.source).toBe(readFileSync(join(__dirname, 'golden', `bt-${name}.js`), 'latin1'));
  });

  test('Xsensitive instructions become their callouts; without the extension, illegal-instruction callouts', () => {
    // rdpriv a0 ; setsie a1 ; touser a2 (each ends its block)
    for (const [w, on, off] of [[0x0000050b, 7, 10], [0x0005900b, 8, 10], [0x0006200b, 9, 10]]) {
      const r16 = new Uint16Array([w & 0xffff, w >>> 16]);
      expect(scanBlock(r16, 0, 0, { c: true, m: true, a: true, xsensitive: true }).insns[0].callout).toBe(on);
      expect(scanBlock(r16, 0, 0, { c: true, m: true, a: true, xsensitive: false }).insns[0].callout).toBe(off);
    }
  });
});

describe('bt: hostile guests', () => {
  test('a kernel rewriting its own code in a loop neither stalls the VMM nor changes a neighbour', () => {
    // Every store lands on the loop's own translated code: each one faults, is emulated, and drops
    // the block, which is translated again at the next jump.
    const thrash = asm(`
.globl _start
_start:
  la t0, loop
loop:
  lw t1, 0(t0)
  sw t1, 0(t0)
  j loop
`, 'thrash.S');
    const traps = asm(readFileSync(join(REPO_ROOT, 'labs', 'traps', 'traps.S'), 'latin1'), 'traps.S');
    const alone = runToEnd(traps, 'bt');
    const vmm = new Vmm({ hostRamSize: 64 * MiB, quantum: 20_000 });
    const out: number[] = [];
    const good = vmm.createVm({ name: 'good', mode: 'bt', kernel: traps, memSize: 16 * MiB, onUart: (b) => out.push(b) });
    const bad = vmm.createVm({ name: 'bad', mode: 'bt', kernel: thrash, memSize: 16 * MiB });
    for (let i = 0; i < 200 && good.runnable; i++) vmm.run(40_000);
    expect({ output: Buffer.from(out).toString('latin1'), state: good.state, instructions: good.stats.instructions })
      .toEqual({ output: alone.output, state: 'halted', instructions: alone.vm.stats.instructions });
    // The thrashing guest kept running, one store exit per pass of its loop (its page holds
    // translated code), which drops the loop's block whenever it is translated. Past the first 1,024
    // translations the block is translated again only on its 128th entry (adaptive hotness), and
    // runs natively until then, so most stores drop nothing.
    expect(bad.state).toBe('running');
    expect(bad.stats.translationInvalidations).toBeGreaterThan(1000);
    expect(bad.stats.emulated['code-page-store']).toBeGreaterThan(bad.stats.translationInvalidations * 5);
    expect(bad.stats.translatedBlocks).toBeLessThan(bad.stats.translationInvalidations + 50);
  });
});

describe('bt: dispatch', () => {
  // A fill loop of 4,000 iterations (a block branching back to its own start), then 1,000 rounds of
  // a CSR read and a CSR write that change nothing the guest's context depends on.
  const LOOPS = `${UART_AND_EXIT}
.globl _start
_start:
  la t0, buf
  li t1, 4000
  li t2, 7
1:
  sb t2, 0(t0)
  addi t0, t0, 1
  addi t1, t1, -1
  bnez t1, 1b
  li t1, 1000
2:
  csrr t3, mstatus
  csrw mscratch, t1
  addi t1, t1, -1
  bnez t1, 2b
  la t0, buf
  li t4, 3999
  add t0, t0, t4
  lbu a0, 0(t0)
  PUTDIGIT a0
  EXIT
.balign 4096
buf:
  .space 4096
`;

  test('a block looping on itself runs in one dispatch; a block goes on after CSR callouts that change no context, and chains', () => {
    const elf = asm(LOOPS, 'loops.S');
    const b = bare(elf);
    expect(b.output).toBe('7');
    const r = runToEnd(elf, 'bt');
    const s = r.vm.stats;
    expect({ output: r.output, exitCode: r.exitCode, instructions: s.instructions }).toEqual({ output: b.output, exitCode: b.exitCode, instructions: b.instret });
    expect(s.calloutKinds.csr).toBe(2000);
    // One block a CSR round (csrr, csrw, addi, bnez: the block goes on after each callout), all but
    // the first round by chaining; the fill loop adds one dispatch (4,000 more when every iteration
    // left through the dispatcher; 3,000 CSR-round dispatches when each callout ended its block).
    expect(s.translationHits).toBeLessThan(50);
    expect(s.chainedJumps).toBeGreaterThanOrEqual(990);
    expect(s.translationHits + s.chainedJumps).toBeLessThan(1100);
  });
});

describe('bt: adaptive hotness', () => {
  // 1,100 blocks entered once (addi; j to the next), then a loop of two blocks run 300 times, with
  // a CSR access and a store into a page of code in the loop, then the count printed.
  const MANY = `${UART_AND_EXIT}
.globl _start
_start:
  li a0, 0
  .rept 1100
  addi a0, a0, 1
  j 1f
1:
  .endr
  li t1, 300
  la t2, spot
2:
  addi a0, a0, 1
  csrr t3, mscratch
  j 3f
3:
  sw t1, 0(t2)
  addi t1, t1, -1
  bnez t1, 2b
  li t4, 10
  remu a0, a0, t4
  PUTDIGIT a0
  EXIT
spot:
  .word 0
`;

  test('past the first 1,024 translations a block start is translated only once hot; the guest sees bare', async () => {
    const elf = asm(MANY, 'many.S');
    const b = bare(elf);
    expect(b.output).toBe('0');
    const r = runToEnd(elf, 'bt');
    const s = r.vm.stats;
    expect({ output: r.output, exitCode: r.exitCode, instructions: s.instructions }).toEqual({ output: b.output, exitCode: b.exitCode, instructions: b.instret });
    // Without hotness every one of the 1,100 starts is translated; with it the ones past 1,024 run
    // natively while cold, and the loop's blocks are translated at their 128th entry.
    expect(s.translatedBlocks).toBeLessThan(1060);
    expect(s.translatedBlocks).toBeGreaterThanOrEqual(1024);
    const { cosimulate } = await import('../support/mode-cosim');
    const c = cosimulate(elf, 'bt', { memSize: 16 * MiB });
    expect(c.firstDifference).toBeUndefined();
    expect(c.output).toBe(b.output);
  });
});

describe('bt: debug triggers', () => {
  // An execute trigger (mcontrol: M-mode, execute) on `target` raises a breakpoint exception before
  // target's first instruction; the handler prints B, disarms the trigger and returns to target.
  const TRIGGER = `${UART_AND_EXIT}
.globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  csrw tselect, zero
  la t0, target
  csrw tdata2, t0
  li t0, 0x20000044
  csrw tdata1, t0
  call target
  li t0, 0x10000000
  li t1, 'D'
  sb t1, 0(t0)
  EXIT
target:
  li t0, 0x10000000
  li t1, 'T'
  sb t1, 0(t0)
  ret
.balign 4
handler:
  csrr t2, mcause
  addi t2, t2, '0'
  li t0, 0x10000000
  sb t2, 0(t0)
  li t0, 0x20000040
  csrw tdata1, t0
  mret
`;

  test('an execute trigger in translated kernel code fires before the instruction, as bare', () => {
    const elf = asm(TRIGGER, 'trigger.S');
    const b = bare(elf);
    expect(b.output).toBe('3TD');
    const r = runToEnd(elf, 'bt');
    expect({ output: r.output, exitCode: r.exitCode, instructions: r.vm.stats.instructions }).toEqual({ output: b.output, exitCode: b.exitCode, instructions: b.instret });
  });
});
