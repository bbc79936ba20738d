# RV32M: products (low and high halves, signed/unsigned mixes), division and remainder edge cases.
.include "runtime.inc"

.macro M op, a, b, name
  li s2, \a
  li s3, \b
  \op s0, s2, s3
  PR \name, s0
.endm

.text
main:
  M mul, 0x12345678, 0x9abcdef0, mul
  M mulh, 0x12345678, 0x9abcdef0, mulh
  M mulhu, 0x12345678, 0x9abcdef0, mulhu
  M mulhsu, 0x9abcdef0, 0x9abcdef0, mulhsu
  M mulhsu, 0x12345678, 0xffffffff, mulhsu2
  M mulh, 0x80000000, 0x80000000, mulh-min
  M mulhu, 0xffffffff, 0xffffffff, mulhu-max
  M mulhsu, 0x80000000, 0xffffffff, mulhsu-min
  M mulh, -1, 1, mulh-neg
  M mul, 0x80000000, -1, mul-min
  M div, 100, 7, div
  M div, -100, 7, div-neg
  M div, 100, -7, div-negd
  M divu, 0xffffffff, 7, divu
  M rem, -100, 7, rem-neg
  M rem, 100, -7, rem-negd
  M remu, 0xffffffff, 7, remu
  M div, 1234, 0, div-by0
  M divu, 1234, 0, divu-by0
  M rem, 1234, 0, rem-by0
  M remu, -1234, 0, remu-by0
  M div, 0x80000000, -1, div-ovf
  M rem, 0x80000000, -1, rem-ovf
  M divu, 0x80000000, -1, divu-big
  M remu, 0x80000000, -1, remu-big
  li s2, 77
  mul s2, s2, s2
  PR "mul-rd-rs1", s2
  EXIT 0
