# LR/SC: success after LR, failure without a reservation, after a completed SC, and on another address.
.include "runtime.inc"

.data
.balign 64
w0: .word 100
.balign 64
w1: .word 200

.text
main:
  la s2, w0
  la s3, w1
  lr.w s0, (s2)
  PX "lr", s0
  li t0, 101
  sc.w s1, t0, (s2)
  PX "sc-ok", s1
  lw s0, 0(s2)
  PR "mem", s0
  li t0, 102
  sc.w s1, t0, (s2)
  PX "sc-again", s1
  lw s0, 0(s2)
  PR "mem", s0
  lr.w s0, (s2)
  li t0, 300
  sc.w s1, t0, (s3)
  PX "sc-other-addr", s1
  lw s0, 0(s3)
  PR "mem1", s0
  lr.w.aq s0, (s3)
  addi s0, s0, 1
  sc.w.rl s1, s0, (s3)
  PX "sc-aqrl", s1
  lw s0, 0(s3)
  PR "mem1", s0
  li s4, 0
  li s5, 0
1:
  lr.w s0, (s2)
  addi s0, s0, 3
  sc.w s1, s0, (s2)
  bnez s1, 1b
  addi s5, s5, 1
  li t0, 10
  blt s5, t0, 1b
  lw s0, 0(s2)
  PR "loop", s0
  EXIT 0
