# Code and data in one page, and code rewritten while it is hot: a loop that updates a counter in
# the 128-byte chunk of its own code, and a routine rewritten with one of two versions every 500
# calls (fence.i after each rewrite), as an operating system reuses a frame for other code.
.include "runtime.inc"

.text
main:
  li s0, 3000
  call near_loop
  PR "near", a0
  li s0, 0
  li s1, 0
  la s2, slot
1:
  andi t0, s0, 1
  la t1, version_a
  beqz t0, 2f
  la t1, version_b
2:
  lw t2, 0(t1)
  sw t2, 0(s2)
  lw t2, 4(t1)
  sw t2, 4(s2)
  lw t2, 8(t1)
  sw t2, 8(s2)
  lw t2, 12(t1)
  sw t2, 12(s2)
  fence.i
  li s3, 500
3:
  mv a0, s1
  jalr s2
  mv s1, a0
  addi s3, s3, -1
  bnez s3, 3b
  addi s0, s0, 1
  li t0, 8
  bltu s0, t0, 1b
  PR "rewritten", s1
  EXIT 0

.balign 128
near_loop:
  la t1, near_count
1:
  lw t0, 0(t1)
  add t0, t0, s0
  sw t0, 0(t1)
  addi s0, s0, -1
  bnez s0, 1b
  lw a0, 0(t1)
  ret
near_count: .word 0

.option push
.option norvc
version_a:
  addi a0, a0, 7
  slli t0, a0, 1
  xor a0, a0, t0
  ret
version_b:
  addi a0, a0, -3
  srli t0, a0, 3
  add a0, a0, t0
  ret
.option pop

.data
.balign 16
slot: .space 16
