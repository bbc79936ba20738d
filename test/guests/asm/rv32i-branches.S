# RV32I branches (signed and unsigned edge cases), jal and jalr (link value, low bit cleared).
.include "runtime.inc"

# Sets bit \bit of s1 when the branch is taken.
.macro TAKEN op, a, b, bit
  \op \a, \b, 1f
  j 2f
1:
  li t0, (1 << \bit)
  or s1, s1, t0
2:
.endm

.text
main:
  li s2, -1
  li s3, 1
  li s4, 0x80000000
  li s5, 0x7fffffff
  li s1, 0
  TAKEN beq, s2, s2, 0
  TAKEN beq, s2, s3, 1
  TAKEN bne, s2, s3, 2
  TAKEN bne, s3, s3, 3
  TAKEN blt, s2, s3, 4
  TAKEN blt, s3, s2, 5
  TAKEN blt, s4, s5, 6
  TAKEN bge, s5, s4, 7
  TAKEN bge, s2, s2, 8
  TAKEN bge, s2, s3, 9
  TAKEN bltu, s3, s2, 10
  TAKEN bltu, s2, s3, 11
  TAKEN bltu, s5, s4, 12
  TAKEN bgeu, s4, s5, 13
  TAKEN bgeu, s3, s3, 14
  TAKEN bgeu, zero, s3, 15
  TAKEN blt, zero, zero, 16
  TAKEN bge, zero, zero, 17
  PR "taken-mask", s1
  jal s0, 1f
1:
  la s1, 1b
  sub s0, s0, s1
  PR "jal-link-delta", s0
  la s2, target
  addi s2, s2, 1
  jalr s0, 0(s2)
back:
  la s1, back
  sub s0, s0, s1
  PR "jalr-link", s0
  la s2, target2 - 8
  jalr s0, 8(s2)
  PR "jalr-off", a0
  la s2, target3
  jalr s2, 0(s2)
target:
  li a0, 0x11
  jr s0
target2:
  li a0, 0x22
  jr s0
target3:
  li a0, 0x33
  la s1, target3
  j 1f
1:
  PR "jalr-rd-eq-rs1-ok", a0
  EXIT 0
