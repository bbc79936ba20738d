# Counters: cycle, time and instret with their high halves readable in M; mcounteren and scounteren
# gate them for S and U. Only whether a read traps is printed, never a counter value.
.include "runtime.inc"

.macro READ_ALL
  csrr s0, cycle
  csrr s0, time
  csrr s0, instret
  csrr s0, cycleh
  csrr s0, timeh
  csrr s0, instreth
  PUTS "reads done\n"
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  PUTS "== M\n"
  READ_ALL
  csrr s0, mcycle
  csrr s0, minstret
  csrr s0, mcycleh
  csrr s0, minstreth
  csrr s1, minstret
  csrr s2, minstret
  sltu s0, s1, s2
  PR "minstret increases", s0
  csrw mcounteren, zero
  csrw scounteren, zero
  PUTS "== S, mcounteren=0\n"
  GOTO_MODE 1, in_s
in_s:
  READ_ALL
  TO_M m2
m2:
  li t0, 0x5
  csrw mcounteren, t0
  PUTS "== S, mcounteren=CY|IR\n"
  GOTO_MODE 1, in_s2
in_s2:
  READ_ALL
  TO_M m3
m3:
  li t0, 0x7
  csrw mcounteren, t0
  PCSR "mcounteren", mcounteren
  PUTS "== U, scounteren=0\n"
  GOTO_MODE 0, in_u
in_u:
  READ_ALL
  TO_M m4
m4:
  li t0, 0x2
  csrw scounteren, t0
  PCSR "scounteren", scounteren
  PUTS "== U, scounteren=TM\n"
  GOTO_MODE 0, in_u2
in_u2:
  READ_ALL
  TO_M done
done:
  EXIT 0
