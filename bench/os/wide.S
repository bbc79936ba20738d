# Wide-code workload: an S-mode kernel with Sv32 on that runs a large body of code only a few
# hundred times, as a kernel's boot does (Linux's runs thousands of distinct blocks a few hundred
# times each before the shell). 2,048 routines of nine instructions, each with a branch in the
# middle and a load and a store of a global, are run one after the other 300 times; no block is hot
# enough to repay building a function for it. A translator that builds every block entered 64 times
# spends more on building than interpreting the whole run costs. Prints a checksum.
.include "runtime.inc"

.equ UNITS, 2048
.equ ROUNDS, 300

.text
main:
  la a0, root
  li a1, 4096
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  call satp_on
  GOTO_MODE 1, kmain

kmain:
  li s0, ROUNDS
  li a0, 1
  la s1, globals
1:
  call units
  addi s0, s0, -1
  bnez s0, 1b
  lw t0, 0(s1)
  xor a0, a0, t0
  mv s2, a0
  PR "wide", s2
  li a0, 0
  li a7, SYS_EXIT
  ecall

.balign 64
units:
.rept UNITS
  lw t1, 0(s1)
  xor t1, t1, a0
  slli t2, t1, 3
  add a0, a0, t2
  andi t3, a0, 4
  beqz t3, 2f
  addi a0, a0, 7
2:
  sw t1, 0(s1)
  addi a0, a0, 1
.endr
  ret

.data
.balign 64
globals: .word 0

.bss
.balign 4096
root: .space 4096
