# RV32I loads and stores: sign and zero extension, byte/half/word stores, negative offsets.
.include "runtime.inc"

.data
.balign 16
buf: .word 0x80ff7f01, 0xfedcba98, 0x00000000, 0x00000000

.text
main:
  la s2, buf
  lb s0, 0(s2)
  PR "lb0", s0
  lb s0, 2(s2)
  PR "lb2", s0
  lb s0, 3(s2)
  PR "lb3", s0
  lbu s0, 3(s2)
  PR "lbu3", s0
  lh s0, 0(s2)
  PR "lh0", s0
  lh s0, 2(s2)
  PR "lh2", s0
  lhu s0, 2(s2)
  PR "lhu2", s0
  lw s0, 4(s2)
  PR "lw4", s0
  addi s3, s2, 8
  lw s0, -4(s3)
  PR "lw-neg", s0
  li s4, 0xa1b2c3d4
  sb s4, 8(s2)
  sh s4, 10(s2)
  lw s0, 8(s2)
  PR "sb-sh", s0
  sw s4, 12(s2)
  sb zero, 13(s2)
  lw s0, 12(s2)
  PR "sw-sb", s0
  sh s4, 14(s2)
  lhu s0, 14(s2)
  PR "sh-lhu", s0
  lh s0, 14(s2)
  PR "sh-lh", s0
  lw zero, 0(s2)
  PR "load-x0", zero
  la s5, buf+2047
  addi s5, s5, -2047
  lw s0, 4(s5)
  PR "lw-via-add", s0
  EXIT 0
