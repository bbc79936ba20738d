# Vectored trap vectors: in mtvec and stvec mode 1, interrupts go to base + 4 * cause and exceptions
# to base. Each interrupt slot records its number in the trap value register before the common entry.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  SET_SHOOK shook_clear
  la t0, mvec
  ori t0, t0, 1
  csrw mtvec, t0
  la t0, svec
  ori t0, t0, 1
  csrw stvec, t0
  PUTS "-- M exception\n"
  .word 0xffffffff
  PUTS "-- MSI (slot 3)\n"
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  li t0, 0x8
  csrs mie, t0
  SET_MHOOK mhook_clear_msip
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  PUTS "-- SSI delegated (S slot 1)\n"
  li t0, 2
  csrw mideleg, t0
  csrs mie, t0
  csrs mip, t0
  GOTO_MODE 1, in_s
in_s:
  csrsi sstatus, MSTATUS_SIE
  nop
  PUTS "-- S exception delegated (S base)\n"
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  TO_M m2
m2:
  li t0, 1 << 2
  csrw medeleg, t0
  GOTO_MODE 1, in_s2
in_s2:
  .word 0xffffffff
  TO_M done
done:
  la t0, mtrap_entry
  csrw mtvec, t0
  csrw medeleg, zero
  csrw mideleg, zero
  EXIT 0

mhook_clear_msip:
  li t0, CLINT_MSIP
  sw zero, 0(t0)
  j mhook_report_skip

shook_clear:
  li t0, 2
  csrc sip, t0
  j shook_report_skip

.balign 64
mvec:
  .option push
  .option norvc
  j mtrap_entry
  j mslot1
  j mslot2
  j mslot3
  .option pop
mslot1:
  csrwi mtval, 1
  j mtrap_entry
mslot2:
  csrwi mtval, 2
  j mtrap_entry
mslot3:
  csrwi mtval, 3
  j mtrap_entry

.balign 64
svec:
  .option push
  .option norvc
  j strap_entry
  j sslot1
  .option pop
sslot1:
  csrwi stval, 1
  j strap_entry
