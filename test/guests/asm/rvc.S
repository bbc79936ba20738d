# RV32C: every compressed instruction with its explicit c. mnemonic, including sign-extended and
# edge immediates; c.ebreak is checked in trap-ebreak.S.
.include "runtime.inc"

.data
.balign 16
cbuf: .word 0x11111111, 0x22222222, 0x33333333, 0x44444444

.text
main:
  c.li s0, -32
  PR "c.li", s0
  c.li s0, 31
  c.addi s0, -1
  PR "c.addi", s0
  c.lui s0, 0xfffe0
  PR "c.lui-neg", s0
  c.lui s0, 1
  PR "c.lui", s0
  li s1, 0x0ff0
  c.mv s0, s1
  c.add s0, s1
  PR "c.mv-add", s0
  c.slli s0, 31
  PR "c.slli", s0
  li s0, 0x80000010
  c.srli s0, 4
  PR "c.srli", s0
  li s0, 0x80000010
  c.srai s0, 4
  PR "c.srai", s0
  li s0, 0x12345678
  c.andi s0, -2
  PR "c.andi", s0
  li s0, 0xf0f0
  li s1, 0xff00
  c.and s0, s1
  PR "c.and", s0
  li s0, 0xf0f0
  c.or s0, s1
  PR "c.or", s0
  li s0, 0xf0f0
  c.xor s0, s1
  PR "c.xor", s0
  li s0, 0xf0f0
  c.sub s0, s1
  PR "c.sub", s0
  c.nop
  mv s2, sp
  c.addi16sp sp, -512
  sub s0, s2, sp
  PR "c.addi16sp", s0
  c.addi16sp sp, 496
  sub s0, s2, sp
  PR "c.addi16sp2", s0
  mv sp, s2
  c.addi4spn s0, sp, 1020
  sub s0, s0, sp
  PR "c.addi4spn", s0
  la s1, cbuf
  c.lw s0, 4(s1)
  PR "c.lw", s0
  c.sw s0, 12(s1)
  lw s0, 12(s1)
  PR "c.sw", s0
  addi sp, sp, -64
  li a4, 0x5a5a5a5a
  c.swsp a4, 60(sp)
  c.lwsp s0, 60(sp)
  addi sp, sp, 64
  PR "c.swsp-lwsp", s0
  li s1, 0
  c.beqz s1, 1f
  li s1, 0x99
1:
  c.bnez s1, 2f
  ori s1, s1, 0x10
2:
  PR "c.beqz-bnez", s1
  c.j 3f
  li s1, 0x77
3:
  PR "c.j", s1
  c.jal sub1
  PR "c.jal", a5
  la a4, sub2
  c.jalr a4
  PR "c.jalr", a5
  la a4, 4f
  c.jr a4
  li a5, 0
4:
  PR "c.jr", a5
  EXIT 0
sub1:
  li a5, 0x101
  c.jr ra
sub2:
  li a5, 0x202
  ret
