// A VM's clock counts only what its guest executes: faults the VMM handles behind the guest's back
// (shadow fills in trap mode) are no steps of the guest's time, so timer interrupts land at the same
// instruction as on the bare machine. The guest below counts loop iterations between timer ticks
// while it touches many pages and rewrites the root entry above them (so trap mode keeps refilling its
// shadows).
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/engine/asm/index';
import { Machine, StopReason } from '../../src/engine/machine/machine';
import { Vmm } from '../../src/engine/vmm/vmm';

const PAGES = 48;
const TICK = 2000;
const TICKS = 6;

const SOURCE = `
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ MTIMECMP, 0x2004000
  .equ MTIME, 0x200bff8
  .equ ROOT, 0x80100000
  .equ L0, 0x80101000
  .equ DATA, 0x80200000
  .globl _start
_start:
  la    t0, m_trap
  csrw  mtvec, t0
  li    t0, -1
  csrw  pmpaddr0, t0
  li    t0, 0x1f
  csrw  pmpcfg0, t0
  # root[0x200]: identity megapage over the first 4 MiB of RAM (code, stack, tables)
  li    t0, ROOT + 0x200 * 4
  li    t1, (0x80000 << 10) | 0xcf
  sw    t1, 0(t0)
  # root[0]: VAs 0..4 MiB through L0; L0[i]: VA i*4K -> DATA + i*4K
  li    t0, ROOT
  li    t1, (L0 >> 12) << 10 | 1
  sw    t1, 0(t0)
  li    t0, L0
  li    t1, (DATA >> 12) << 10 | 0xc7
  li    t2, ${PAGES}
1:sw    t1, 0(t0)
  addi  t0, t0, 4
  addi  t1, t1, 0x400
  addi  t2, t2, -1
  bnez  t2, 1b
  li    t0, 0x80000000 | (ROOT >> 12)
  csrw  satp, t0
  # the first tick; M-level timer interrupts reach M from S whatever mstatus.MIE says
  li    t0, MTIME
  lw    t1, 0(t0)
  addi  t1, t1, ${TICK}
  li    t0, MTIMECMP
  sw    t1, 0(t0)
  sw    zero, 4(t0)
  li    t0, 1 << 7
  csrw  mie, t0
  li    t0, 3 << 11
  csrc  mstatus, t0
  li    t0, 1 << 11
  csrs  mstatus, t0
  la    t0, s_main
  csrw  mepc, t0
  li    s2, 0
  mret

s_main:
  li    s1, 0                 # iterations, read by the M-mode tick handler
2:li    t0, 0
  li    t2, ${PAGES}
3:lw    t1, 0(t0)
  addi  t1, t1, 1
  sw    t1, 0(t0)
  li    t3, 4096
  add   t0, t0, t3
  addi  s1, s1, 1
  addi  t2, t2, -1
  bnez  t2, 3b
  # the same root entry written again, then a fence: trap mode drops the range's shadow entries
  li    t0, ROOT
  lw    t1, 0(t0)
  sw    t1, 0(t0)
  sfence.vma
  j     2b

  .balign 4
m_trap:
  csrw  mscratch, ra
  mv    a0, s1
  call  puthex
  li    a0, 10
  call  putc
  addi  s2, s2, 1
  li    t0, ${TICKS}
  beq   s2, t0, done
  li    t0, MTIMECMP
  lw    t1, 0(t0)
  addi  t1, t1, ${TICK}
  sw    t1, 0(t0)
  csrr  ra, mscratch
  mret
done:
  li    t0, FINISHER
  li    t1, 0x5555
  sw    t1, 0(t0)
4:j     4b

puthex:                        # a0 as 8 hex digits
  mv    a2, ra
  mv    a1, a0
  li    a3, 28
5:srl   a0, a1, a3
  andi  a0, a0, 15
  addi  a0, a0, '0'
  li    t0, '9'
  ble   a0, t0, 6f
  addi  a0, a0, 'a' - '9' - 1
6:call  putc
  addi  a3, a3, -4
  bgez  a3, 5b
  mv    ra, a2
  ret
putc:
  li    t0, UART
  sb    a0, 0(t0)
  ret
`;

function kernel(): Uint8Array {
  const r = assemble(SOURCE, { file: 'clock.S' });
  if (!r.elf) throw new Error(r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
  return r.elf;
}

describe("a VM's clock", () => {
  it('puts timer interrupts at the same instruction as bare, in emulate and in trap mode', () => {
    const elf = kernel();
    const bareOut: number[] = [];
    const m = new Machine({ onUart: (b) => bareOut.push(b) });
    m.loadKernel(elf);
    expect(m.run(50_000_000)).toBe(StopReason.EXIT);
    const bare = Buffer.from(bareOut).toString('latin1');
    expect(bare.split('\n').filter(Boolean)).toHaveLength(TICKS);
    for (const mode of ['emulate', 'trap'] as const) {
      const out: number[] = [];
      const vmm = new Vmm({ hostRamSize: 256 << 20 });
      const vm = vmm.createVm({ name: mode, mode, kernel: elf, memSize: 128 << 20, onUart: (b) => out.push(b) });
      while (vm.runnable) vmm.runVm(vm, 1_000_000);
      expect(vm.state).toBe('halted');
      expect({ mode, out: Buffer.from(out).toString('latin1') }).toEqual({ mode, out: bare });
      // Trap mode did refill shadows behind the guest's back all along.
      if (mode === 'trap') expect(vm.stats.shadowFills).toBeGreaterThan(TICKS * PAGES);
      expect(vm.vhart.instret).toBe(m.hart.instret);
    }
  });
});
