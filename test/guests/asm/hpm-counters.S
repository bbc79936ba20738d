# Hardware performance counters as QEMU 7.2's rv32 has them (16, as OpenSBI counts them at boot):
# mhpmcounter3..18 and their high halves hold what is written, mhpmcounter19..31 are illegal,
# mhpmevent3..31 hold what is written; hpmcounterN reads mhpmcounterN below M when mcounteren
# allows, and is illegal past 18. The reads trap or not exactly as on QEMU.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  li t0, 0x12345678
  csrw mhpmcounter3, t0
  li t0, 0x9abcdef0
  csrw mhpmcounter3h, t0
  li t0, 0x5a5a
  csrw mhpmcounter18, t0
  li t0, 0x33
  csrw mhpmevent4, t0
  li t0, 0x44
  csrw mhpmevent31, t0
  PCSR "mhpmcounter3", mhpmcounter3
  PCSR "mhpmcounter3h", mhpmcounter3h
  PCSR "mhpmcounter18", mhpmcounter18
  PCSR "mhpmcounter4", mhpmcounter4
  PCSR "mhpmevent4", mhpmevent4
  PCSR "mhpmevent31", mhpmevent31
  PCSR "hpmcounter3 in M", hpmcounter3
  PUTS "mhpmcounter19:\n"
  csrr s0, mhpmcounter19
  PUTS "mhpmcounter31h:\n"
  csrw mhpmcounter31h, t0
  PUTS "hpmcounter20 in M:\n"
  csrr s0, hpmcounter20
  li t0, 0x8
  csrw mcounteren, t0
  GOTO_MODE 1, in_s
in_s:
  PCSR "hpmcounter3 in S", hpmcounter3
  PUTS "hpmcounter4 in S (mcounteren.HPM4 = 0):\n"
  csrr s0, hpmcounter4
  TO_M done
done:
  EXIT 0
