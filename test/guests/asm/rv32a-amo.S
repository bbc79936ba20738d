# RV32A AMOs: old value returned and new value stored, signed/unsigned min/max, aq/rl variants.
.include "runtime.inc"

.data
.balign 16
word: .word 0

.text
.macro AMO op, init, operand, name
  la s2, word
  li t0, \init
  sw t0, 0(s2)
  li s3, \operand
  \op s0, s3, (s2)
  lw s1, 0(s2)
  PX \name, s0
  PR "mem", s1
.endm

main:
  AMO amoswap.w, 0x11111111, 0x22222222, swap
  AMO amoadd.w, 0x7fffffff, 1, add
  AMO amoxor.w, 0xff00ff00, 0x0ff00ff0, xor
  AMO amoand.w, 0xff00ff00, 0x0ff00ff0, and
  AMO amoor.w, 0xff00ff00, 0x0ff00ff0, or
  AMO amomin.w, 0x80000000, 1, min
  AMO amomin.w, 5, -3, min2
  AMO amomax.w, 0x80000000, 1, max
  AMO amominu.w, 0x80000000, 1, minu
  AMO amomaxu.w, 0x80000000, 1, maxu
  AMO amoadd.w.aq, 10, 20, add.aq
  AMO amoswap.w.rl, 10, 20, swap.rl
  AMO amoor.w.aqrl, 1, 2, or.aqrl
  la s2, word
  li t0, 0x1234
  sw t0, 0(s2)
  amoadd.w zero, t0, (s2)
  lw s1, 0(s2)
  PR "amo-rd-x0", s1
  amoswap.w s1, zero, (s2)
  PR "amo-rs2-x0-old", s1
  lw s1, 0(s2)
  PR "amo-rs2-x0-mem", s1
  EXIT 0
