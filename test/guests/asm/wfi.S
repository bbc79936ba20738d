# WFI: returns at once when an enabled interrupt is pending even with mstatus.MIE = 0; in S with
# TW = 0 it waits (the timer is 100 ms away, so it fires during the wfi) and the interrupt taken in
# M has mepc after the wfi; TW = 1 makes it illegal in S; it is always illegal in U. The S loop
# cannot mask the M interrupt around its check of the flag, so the handler sends an interrupt that
# came between the check and the wfi back to the check (test/machine/wfi-window.test.ts).
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
wait_check:
  la t0, woke
  lw t0, 0(t0)
  bnez t0, 2f
  wfi
after_wfi:
  j wait_check
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
  li t2, 1
  sw t2, 0(t1)
  # S cannot mask an M interrupt while it checks the flag: one that comes after the check and
  # before the wfi would leave the wfi waiting for ever (the timer is disarmed). Such an interrupt
  # goes back to the check, which sees the flag now.
  la t1, wait_check
  bltu t0, t1, 1f
  la t2, after_wfi
  bgeu t0, t2, 1f
  sw t1, FRAME_EPC(sp)
1:
  j mtrap_return

.data
woke: .word 0
woke_epc: .word 0
