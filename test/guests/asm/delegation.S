# medeleg and mideleg: which handler (M or S) takes exceptions and software interrupts from each mode.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  SET_SHOOK shook_report_skip
  li t0, (1 << 8) | (1 << 9) | (1 << 2) | (1 << 3)
  csrw medeleg, t0
  PCSR "medeleg", medeleg
  PUTS "-- M (never delegated)\n"
  li a7, 0
  ecall
  .word 0xffffffff
  ebreak
  GOTO_MODE 1, in_s
in_s:
  PUTS "-- S\n"
  li a7, 0
  ecall
  .word 0xffffffff
  ebreak
  TO_M_BY_FAULT m2
m2:
  li t0, (1 << 9) | (1 << 3)
  csrc medeleg, t0
  PUTS "-- S, only illegal delegated\n"
  GOTO_MODE 1, in_s2
in_s2:
  li a7, 0
  ecall
  .word 0xffffffff
  ebreak
  TO_M_BY_FAULT m3
m3:
  PUTS "-- U, ecall and illegal delegated\n"
  GOTO_MODE 0, in_u
in_u:
  li a7, 0
  ecall
  .word 0xffffffff
  ebreak
  TO_M_BY_FAULT m4
m4:
  csrw medeleg, zero
  PUTS "-- SSIP delegated, pending in M: not taken in M\n"
  li t0, 2
  csrw mideleg, t0
  csrs mie, t0
  csrsi mstatus, MSTATUS_MIE
  csrs mip, t0
  nop
  PUTS "-- enter S with SIE=0: not taken\n"
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  GOTO_MODE 1, in_s3
in_s3:
  nop
  PUTS "-- S sets SIE: taken in S\n"
  SET_SHOOK shook_clear_ssip
  csrsi sstatus, MSTATUS_SIE
  nop
  csrci sstatus, MSTATUS_SIE
  TO_M_BY_FAULT m5
m5:
  PUTS "-- U with SIE=0: delegated interrupt taken\n"
  li t0, 2
  csrs mip, t0
  GOTO_MODE 0, in_u2
in_u2:
  nop
  TO_M_BY_FAULT m6
m6:
  PUTS "-- not delegated, from S: taken in M\n"
  SET_MHOOK mhook_clear_ssip
  csrw mideleg, zero
  li t0, 2
  csrs mip, t0
  GOTO_MODE 1, in_s4
in_s4:
  nop
  TO_M_BY_FAULT done
done:
  csrw mie, zero
  EXIT 0

shook_clear_ssip:
  li t0, 2
  csrc sip, t0
  j shook_report_skip
mhook_clear_ssip:
  li t0, 2
  csrc mip, t0
  j mhook_report_skip
