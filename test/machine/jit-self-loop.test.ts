// Self-looping blocks (a block whose branch goes back to its own start) run their passes in an
// inner loop of the region, and byte, halfword and word fill loops (the `sb; addi; bne` of a C
// memset) do every pass up to their store's page end at once. Both must be invisible: the same
// registers, memory, instruction and step counts, TLB hits, traps and interrupts as the interpreter,
// whatever the slice length, with a trap in the middle of a loop (a store running off the end of
// RAM, a store crossing into an unmapped page, a store overwriting the loop's own code) and a timer
// interrupt firing inside the loops. The interpreter is the reference; trap values are also checked
// by hand.
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { forEachBackend } from '../support/jit-backends';

const RAM = 0x80000000;

const EXIT = `
  li    t0, 0x100000
  li    t1, 0x5555
  sw    t1, 0(t0)
1: j 1b
`;

// Fills at unaligned starts and lengths crossing pages, a byte sum in a self loop with a load, a word
// copy, with the CLINT's timer interrupting every PERIOD ticks; the handler counts interrupts, those
// that hit a fill loop, and folds each mepc into s9.
const PERIOD = 37;
const FILLS = `
  .option norvc
  .globl _start
_start:
  la    t0, trap
  csrw  mtvec, t0
  li    s10, 0
  li    s9, 0
  li    s8, 0
  li    t0, 0x0200bff8
  lw    t1, 0(t0)
  addi  t1, t1, ${PERIOD}
  li    t0, 0x02004000
  sw    zero, 4(t0)
  sw    t1, 0(t0)
  li    t0, 0x80
  csrs  mie, t0
  csrsi mstatus, 8
  # Byte fill, 3 pages and 100 bytes from an odd address.
  la    a0, buf
  addi  a0, a0, 3
  li    a1, 0x15a
  li    a2, 3 * 4096 + 100
  call  memset
  # Halfword fill of 2 pages less 6 bytes.
  la    a5, buf
  addi  a5, a5, 2
  li    a4, 2 * 4096 - 4
  add   a4, a5, a4
  li    t1, 0x7e3c
hfill:
  sh    t1, 0(a5)
  addi  a5, a5, 2
  bne   a5, a4, hfill
  # Word fill of 2 pages and 12 bytes into the second buffer.
  la    a5, buf2
  li    a4, 2 * 4096 + 12
  add   a4, a5, a4
  li    t1, 0x12345678
wfill:
  sw    t1, 0(a5)
  addi  a5, a5, 4
  bne   a5, a4, wfill
fills_end:
  # Sum of the first buffer's bytes (a self loop with a load).
  la    a5, buf
  li    a4, 4 * 4096
  add   a4, a5, a4
  li    a0, 0
sum:
  lbu   t1, 0(a5)
  add   a0, a0, t1
  addi  a5, a5, 1
  bne   a5, a4, sum
  # Word copy of the second buffer over the first (a self loop with a load and a store).
  la    a5, buf2
  la    a3, buf
  li    a4, 2 * 4096
  add   a4, a5, a4
copy:
  lw    t1, 0(a5)
  sw    t1, 0(a3)
  addi  a5, a5, 4
  addi  a3, a3, 4
  bne   a5, a4, copy
  csrci mstatus, 8
${EXIT}

memset:
  beqz  a2, 2f
  mv    a5, a0
  add   a4, a0, a2
  andi  a1, a1, 0xff
1:
  sb    a1, 0(a5)
  addi  a5, a5, 1
  bne   a5, a4, 1b
2:
  ret

trap:
  csrr  t5, mepc
  addi  s10, s10, 1
  slli  t6, s9, 5
  srli  s9, s9, 27
  or    s9, s9, t6
  xor   s9, s9, t5
  la    t6, memset
  bltu  t5, t6, 3f
  la    t6, fills_end
  bltu  t5, t6, 4f
  la    t6, trap
  bgeu  t5, t6, 4f
3:
  addi  s8, s8, 1
4:
  li    t5, 0x02004000
  lw    t6, 0(t5)
  addi  t6, t6, ${PERIOD}
  sw    t6, 0(t5)
  mret

  .data
  .balign 4096
buf: .space 4 * 4096
buf2: .space 3 * 4096
`;

// A byte fill that runs off the end of RAM (RAM_SIZE bytes): the store at the first byte past it
// takes an access fault, which the handler reports in a0..a3 (mcause, mepc, mtval, a5).
const RAM_SIZE = 1 << 20;
const OFF_THE_END = `
  .option norvc
  .globl _start
_start:
  la    t0, trap
  csrw  mtvec, t0
  li    a5, ${RAM + RAM_SIZE - 2 * 4096 - 7}
  li    a4, ${RAM + RAM_SIZE + 50}
  li    a1, 0xa5
fill:
  sb    a1, 0(a5)
  addi  a5, a5, 1
  bne   a5, a4, fill
  li    a0, -1
${EXIT}
trap:
  csrr  a0, mcause
  csrr  a1, mepc
  csrr  a2, mtval
  mv    a3, a5
${EXIT}
`;

// S-mode with Sv32: the code runs identity-mapped by a megapage; virtual 0x80400000 and 0x80401000
// map two data pages, 0x80402000 is unmapped. A byte fill from 7 bytes before the second page runs
// into the unmapped one: a store page fault (cause 15) taken in M-mode, reported in a0..a3.
const UNMAPPED = `
  .option norvc
  .globl _start
_start:
  la    t0, trap
  csrw  mtvec, t0
  la    t0, root
  la    t1, l0
  # root[0x200]: megapage 0x80000000, V R W X A D.
  li    t2, (0x80000 << 10) | 0xcf
  li    t3, 0x200 * 4
  add   t3, t0, t3
  sw    t2, 0(t3)
  # root[0x201]: the level-0 table.
  srli  t2, t1, 12
  slli  t2, t2, 10
  ori   t2, t2, 1
  sw    t2, 4(t3)
  # l0[0], l0[1]: the data pages, V R W A D; l0[2] stays 0.
  la    t2, data
  srli  t2, t2, 12
  slli  t2, t2, 10
  ori   t2, t2, 0xc7
  sw    t2, 0(t1)
  li    t3, 1 << 10
  add   t2, t2, t3
  sw    t2, 4(t1)
  srli  t0, t0, 12
  li    t1, 1 << 31
  or    t0, t0, t1
  csrw  satp, t0
  # A PMP rule giving S-mode all memory (without one, QEMU 7.2's mret to S is illegal).
  li    t1, -1
  csrw  pmpaddr0, t1
  li    t1, 0x1f
  csrw  pmpcfg0, t1
  sfence.vma
  li    t0, 0x1800
  csrc  mstatus, t0
  li    t0, 0x800
  csrs  mstatus, t0
  la    t0, smode
  csrw  mepc, t0
  mret
smode:
  li    a5, 0x80400000
  li    a4, 0x80402000 - 4096 - 7
  li    a1, 0x3c
  # A first pass over the first page, then the fill that faults.
first:
  sb    a1, 0(a5)
  addi  a5, a5, 1
  bne   a5, a4, first
  li    a4, 0x80402000 + 64
fill:
  sb    a1, 0(a5)
  addi  a5, a5, 1
  bne   a5, a4, fill
  li    a0, -1
${EXIT}
trap:
  csrr  a0, mcause
  csrr  a1, mepc
  csrr  a2, mtval
  mv    a3, a5
${EXIT}
  .balign 4096
root: .space 4096
l0: .space 4096
data: .space 2 * 4096
`;

// A word fill walking down through the padding after its own loop into the loop's code: it writes
// nops over the padding (beside translated code: stays translated), then over its own bne, so the
// pass after that falls through the padding to the exit; a word fill walking up from a data page
// into a code page overwrites its own sw with a nop and goes on counting without storing. s1 counts
// the padding's addi that survived (none), a0 and a2 are the pointers at the end.
const NOP = 0x00000013;
const OWN_CODE = `
  .option norvc
  .globl _start
_start:
  li    s1, 0
  li    t1, ${NOP}
  la    a5, pad_end
  addi  a5, a5, -4
  la    a4, down
  j     down
  .balign 4096
down:
  sw    t1, 0(a5)
  addi  a5, a5, -4
  bne   a5, a4, down
  .rept 600
  addi  s1, s1, 1
  .endr
pad_end:
  mv    a0, a5
  la    a2, upbuf
  la    a4, up
  addi  a4, a4, 400
  j     up
  .balign 4096
upbuf: .space 2 * 4096 + 256
up:
  sw    t1, 0(a2)
  addi  a2, a2, 4
  bne   a2, a4, up
${EXIT}
`;

interface Outcome {
  regs: number[];
  instret: number;
  steps: number;
  hits: number;
  /** pc and instructions retired after each slice. */
  trace: number[];
  memory: number[];
  blockInsns: number;
}

function run(source: string, jit: boolean, slice: number, ramSize?: number): Outcome {
  const r = assemble(source, { file: 'self-loop.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = new Machine({ cpu: { jit }, ramSize });
  m.loadKernel(r.elf);
  const trace: number[] = [];
  let reason = StopReason.BUDGET;
  for (let i = 0; i < 4_000_000 && reason === StopReason.BUDGET; i++) {
    reason = m.run(slice);
    trace.push(m.hart.pcU, m.hart.instret);
  }
  expect(reason).toBe(StopReason.EXIT);
  const ram = m.bus.ram32;
  // A checksum per 4 KiB of the first 256 KiB of RAM (the programs and their buffers).
  const memory: number[] = [];
  for (let p = 0; p < 64; p++) {
    let h = 0;
    for (let i = 0; i < 1024; i++) h = (Math.imul(h, 31) + ram[p * 1024 + i]) | 0;
    memory.push(h);
  }
  return { regs: [...m.hart.x], instret: m.hart.instret, steps: m.clockSteps, hits: m.hart.tlb.hits, trace, memory, blockInsns: m.hart.code?.stats.blockInsns ?? 0 };
}

/** Address of `name` in the assembled `source`. */
function symbol(source: string, name: string): number {
  const r = assemble(source, { file: 'self-loop.S' });
  return r.symbols.find((s) => s.name === name)!.address >>> 0;
}

function same(source: string, slices: number[], ramSize?: number): Outcome {
  const interp = run(source, false, slices[0], ramSize);
  for (const slice of slices) {
    const i = slice === slices[0] ? interp : run(source, false, slice, ramSize);
    const t = run(source, true, slice, ramSize);
    expect(t.blockInsns).toBeGreaterThan(i.instret / 2);
    const { blockInsns: _a, ...tt } = t;
    const { blockInsns: _b, ...ii } = i;
    expect(tt).toEqual(ii);
  }
  return interp;
}

forEachBackend(() => {
  describe('self-looping blocks', () => {
    test('fills, a sum and a copy with a timer interrupting the loops', () => {
      const out = same(FILLS, [10_000_000, 4099, 97]);
      // Interrupts came, and some hit the fill loops.
      expect(out.regs[26]).toBeGreaterThan(100);
      expect(out.regs[24]).toBeGreaterThan(10);
      // The sum by hand: buf[3 .. 3 + 3*4096+100) = 0x5a, then halfwords 0x7e3c over buf[2 .. 2 + 2*4096 - 4).
      const bytes = new Uint8Array(4 * 4096);
      bytes.fill(0x5a, 3, 3 + 3 * 4096 + 100);
      const halves = new DataView(bytes.buffer);
      for (let a = 2; a < 2 + 2 * 4096 - 4; a += 2) halves.setUint16(a, 0x7e3c, true);
      expect(out.regs[10]).toBe(bytes.reduce((s, b) => s + b, 0));
    });

    test('a fill running off the end of RAM takes the access fault at the first byte past it', () => {
      const out = same(OFF_THE_END, [10_000_000, 1000, 13], RAM_SIZE);
      expect(out.regs.slice(10, 14).map((v) => v >>> 0)).toEqual([7, symbol(OFF_THE_END, 'fill'), RAM + RAM_SIZE, RAM + RAM_SIZE]);
    });

    test('a fill crossing into an unmapped page takes the store page fault there', () => {
      const out = same(UNMAPPED, [10_000_000, 1000, 13]);
      expect(out.regs.slice(10, 14).map((v) => v >>> 0)).toEqual([15, symbol(UNMAPPED, 'fill'), 0x80402000, 0x80402000]);
    });

    test('a fill overwriting its own loop leaves it at the store and runs the new code', () => {
      const out = same(OWN_CODE, [10_000_000, 4099, 97]);
      expect(out.regs[9]).toBe(0);
      // The downward fill stopped after overwriting its bne (a5 one word below it), the upward one
      // counted on past its overwritten sw to its bound.
      expect(out.regs[10] >>> 0).toBe(symbol(OWN_CODE, 'down') + 4);
      expect(out.regs[12] >>> 0).toBe(symbol(OWN_CODE, 'up') + 400);
    });
  });
});
