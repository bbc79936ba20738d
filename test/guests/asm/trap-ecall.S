# ecall from M, S and U: cause, epc, tval, and the mstatus fields the trap and the returns set.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  li a7, 0
  ecall
  csrr s0, mstatus
  li t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
  and s0, s0, t0
  PR "after-m-ecall mstatus", s0
  csrsi mstatus, MSTATUS_MIE
  GOTO_MODE 1, in_s
in_s:
  csrr s0, sstatus
  andi s0, s0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
  PR "in-s sstatus", s0
  li a7, 0
  ecall
  PUTS "back in S\n"
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  PUTS "in U\n"
  li a7, 0
  ecall
  c.nop
  ecall
  TO_M in_m
in_m:
  csrr s0, mstatus
  li t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_SPP
  and s0, s0, t0
  PR "back-in-m mstatus", s0
  EXIT 0
