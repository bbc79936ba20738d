# RV32I shifts: immediate and register amounts 0, 1, 31, and register amounts above 31 (low 5 bits).
.include "runtime.inc"

.text
main:
  li s2, 0x80000001
  li s3, 0x7654321f
  slli s0, s2, 0
  PR "slli0", s0
  slli s0, s2, 1
  PR "slli1", s0
  slli s0, s3, 31
  PR "slli31", s0
  srli s0, s2, 1
  PR "srli1", s0
  srli s0, s2, 31
  PR "srli31", s0
  srai s0, s2, 1
  PR "srai1", s0
  srai s0, s2, 31
  PR "srai31", s0
  srai s0, s3, 31
  PR "srai31p", s0
  li s4, 31
  sll s0, s3, s4
  PR "sll31", s0
  srl s0, s2, s4
  PR "srl31", s0
  sra s0, s2, s4
  PR "sra31", s0
  li s4, 32
  sll s0, s3, s4
  PR "sll32", s0
  li s4, 33
  srl s0, s2, s4
  PR "srl33", s0
  li s4, -1
  sra s0, s2, s4
  PR "sra-1", s0
  li s4, 0xffffffe4
  sll s0, s3, s4
  PR "sll-e4", s0
  sra s0, s2, zero
  PR "sra0", s0
  EXIT 0
