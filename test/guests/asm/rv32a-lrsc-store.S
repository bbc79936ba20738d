# LR/SC around a plain store by the same hart. QEMU 7.2 keeps the reservation across stores (it
# clears it only at SC and on traps) and its SC succeeds when the reserved word still holds the value
# LR read: a store of the same value, or a change and a change back, leaves the SC successful; a
# store of another value makes it fail; a store beside the word in the same granule does not matter.
.include "runtime.inc"

.data
.balign 64
w0: .word 100
w0b: .word 7

.text
main:
  la s2, w0
  la s3, w0b
  # a store of the value LR read
  lr.w s0, (s2)
  sw s0, 0(s2)
  li t0, 110
  sc.w s1, t0, (s2)
  PX "sc-after-same-store", s1
  lw s0, 0(s2)
  PR "mem", s0
  # a store of another value
  lr.w s0, (s2)
  li t0, 120
  sw t0, 0(s2)
  li t0, 130
  sc.w s1, t0, (s2)
  PX "sc-after-other-store", s1
  lw s0, 0(s2)
  PR "mem", s0
  # a change and a change back
  lr.w s0, (s2)
  li t0, 1
  sw t0, 0(s2)
  sw s0, 0(s2)
  li t0, 140
  sc.w s1, t0, (s2)
  PX "sc-after-aba", s1
  lw s0, 0(s2)
  PR "mem", s0
  # a store beside the word, in the same 64-byte granule
  lr.w s0, (s2)
  li t0, 8
  sw t0, 0(s3)
  li t0, 150
  sc.w s1, t0, (s2)
  PX "sc-after-store-beside", s1
  lw s0, 0(s2)
  PR "mem", s0
  # a byte store into the word that leaves its value unchanged
  lr.w s0, (s2)
  sb s0, 0(s2)
  li t0, 160
  sc.w s1, t0, (s2)
  PX "sc-after-same-byte", s1
  lw s0, 0(s2)
  PR "mem", s0
  EXIT 0
