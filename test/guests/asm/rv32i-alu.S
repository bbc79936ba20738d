# RV32I register-register and register-immediate arithmetic and logic with edge values.
.include "runtime.inc"

.text
main:
  li s2, 0x7fffffff
  li s3, 0x80000000
  li s4, -1
  li s5, 0x12345678
  li s6, 0x0f0f00ff
  add s0, s2, s4
  PR "add", s0
  add s0, s2, s2
  PR "add-ovf", s0
  sub s0, s3, s2
  PR "sub", s0
  sub s0, zero, s3
  PR "neg-min", s0
  and s0, s5, s6
  PR "and", s0
  or s0, s5, s6
  PR "or", s0
  xor s0, s5, s6
  PR "xor", s0
  slt s0, s3, s2
  PR "slt", s0
  slt s0, s2, s3
  PR "slt2", s0
  sltu s0, s3, s2
  PR "sltu", s0
  sltu s0, zero, s4
  PR "snez", s0
  addi s0, s2, 1
  PR "addi", s0
  addi s0, s5, -2048
  PR "addi-min", s0
  addi s0, s5, 2047
  PR "addi-max", s0
  andi s0, s5, -16
  PR "andi", s0
  ori s0, s5, 0x7ff
  PR "ori", s0
  xori s0, s5, -1
  PR "not", s0
  slti s0, s4, 0
  PR "slti", s0
  sltiu s0, s4, -1
  PR "sltiu-1", s0
  sltiu s0, zero, 1
  PR "seqz", s0
  slti s0, s3, -2048
  PR "slti-min", s0
  lui s0, 0xfffff
  PR "lui", s0
  lui s0, 0x80000
  PR "lui-min", s0
  auipc s0, 0
  la s1, main
  sub s0, s0, s1
  PR "auipc-off", s0
  auipc s0, 0x10
  auipc s1, 0
  sub s0, s0, s1
  PR "auipc-imm", s0
  add zero, s2, s2
  PR "x0", zero
  addi x0, x0, 5
  PR "x0-imm", x0
  lui x0, 0x12345
  PR "x0-lui", x0
  EXIT 0
