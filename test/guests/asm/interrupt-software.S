# Software interrupts: CLINT msip (MSI), mip.SSIP set by M, and the priority order of two pending
# interrupts (MSI before MTI, SSI before STI). QEMU 7.2 without AIA takes the lowest pending number
# first, which breaks the spec order for other pairs (SSI before MSI), so those are not compared.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_clear
  li t0, CLINT_MTIMECMP
  li t1, -1
  sw t1, 4(t0)
  sw t1, 0(t0)
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  lw s0, 0(t0)
  PR "msip reg", s0
  csrr s0, mip
  andi s0, s0, 0x8
  PR "mip.MSIP", s0
  li t0, 0x8
  csrs mie, t0
  PUTS "enable MIE\n"
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  PUTS "-- SSIP not delegated\n"
  li t0, 0x2
  csrs mie, t0
  csrs mip, t0
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  PUTS "-- MSI and MTI together\n"
  li t0, 0x88
  csrs mie, t0
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  li t0, CLINT_MTIMECMP
  sw zero, 0(t0)
  sw zero, 4(t0)
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  PUTS "-- SSI and STI together\n"
  li t0, 0x22
  csrs mie, t0
  csrs mip, t0
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  csrr s0, mip
  li t0, 0xaa
  and s0, s0, t0
  PR "mip after", s0
  PUTS "-- S writes sip.SSIP (delegated)\n"
  li t0, 0x2
  csrw mideleg, t0
  SET_SHOOK shook_clear
  GOTO_MODE 1, in_s
in_s:
  csrsi sstatus, MSTATUS_SIE
  li t0, 2
  csrs sie, t0
  csrs sip, t0
  nop
  TO_M done
done:
  EXIT 0

# Clears the source of the interrupt being taken, then reports it.
mhook_clear:
  lw t0, FRAME_CAUSE(sp)
  slli t0, t0, 1
  srli t0, t0, 1
  li t1, 3
  bne t0, t1, 1f
  li t2, CLINT_MSIP
  sw zero, 0(t2)
1:
  li t1, 7
  bne t0, t1, 2f
  li t2, CLINT_MTIMECMP
  li t3, -1
  sw t3, 4(t2)
  sw t3, 0(t2)
2:
  li t1, 1
  bne t0, t1, 3f
  li t2, 2
  csrc mip, t2
3:
  li t1, 5
  bne t0, t1, 4f
  li t2, 0x20
  csrc mip, t2
4:
  j mhook_report_skip

shook_clear:
  li t0, 2
  csrc sip, t0
  j shook_report_skip
