# WFI: returns at once when an enabled interrupt is pending even with mstatus.MIE = 0; in S with
# TW = 0 it waits (the timer is 100 ms away, so it fires during the wfi) and the interrupt taken in
# M has mepc after the wfi; TW = 1 makes it illegal in S; it is always illegal in U.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_ws
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  li t0, 0x8
  csrs mie, t0
  wfi
  PUTS "wfi returned with MSIP pending and MIE=0\n"
  li t0, CLINT_MSIP
  sw zero, 0(t0)
  li t0, CLINT_MTIME
  lw t1, 0(t0)
  li t2, 1000000
  add t1, t1, t2
  li t0, CLINT_MTIMECMP
  li t2, -1
  sw t2, 4(t0)
  sw t1, 0(t0)
  sw zero, 4(t0)
  li t0, 0x80
  csrs mie, t0
  GOTO_MODE 1, in_s
in_s:
1:
  la t0, woke
  lw t0, 0(t0)
  bnez t0, 2f
  wfi
after_wfi:
  j 1b
2:
  PUTS "S woke from wfi\n"
  TO_M m2
m2:
  la t0, woke_epc
  lw s0, 0(t0)
  la t1, after_wfi
  sub s0, s0, t1
  PR "mepc - after_wfi", s0
  SET_MHOOK mhook_report_skip
  li t0, MSTATUS_TW
  csrs mstatus, t0
  GOTO_MODE 1, in_s2
in_s2:
  wfi
  TO_M m3
m3:
  li t0, MSTATUS_TW
  csrc mstatus, t0
  GOTO_MODE 0, in_u
in_u:
  wfi
  TO_M done
done:
  EXIT 0

mhook_ws:
  lw s0, FRAME_CAUSE(sp)
  PR "interrupt mcause", s0
  li t0, CLINT_MTIMECMP
  li t1, -1
  sw t1, 4(t0)
  sw t1, 0(t0)
  lw t0, FRAME_EPC(sp)
  la t1, woke_epc
  sw t0, 0(t1)
  la t1, woke
  li t0, 1
  sw t0, 0(t1)
  j mtrap_return

.data
woke: .word 0
woke_epc: .word 0
