# A kernel that rewrites its own code, for bt mode's translation cache: a loop calls `f` (li a0, 1;
# ret) twice per pass and prints the digit it returned, three passes; then the kernel overwrites f's
# first instruction with `li a0, 2` and calls f again without fence.i, then with `li a0, 3` and
# fence.i, printing each result: "11123" and exit 0 bare and in every mode. In bt each store hits a page holding translated code: it is write-protected,
# faults, is emulated and drops f's block (two invalidations of f, one per store). Between them the
# kernel reads mhartid and mscratch (CSR callouts in bt) and loops a little so blocks are hit again.
  .option norvc
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .globl _start
_start:
  li s1, UART
  csrr s2, mhartid
  csrw mscratch, s2
  li s3, 3
1:
  call f
  addi t6, a0, '0'
  sb t6, 0(s1)
  call f
  addi s3, s3, -1
  bnez s3, 1b
  la t0, f
  li t1, 0x00200513          # li a0, 2
store1:
  sw t1, 0(t0)
  call f
  addi t6, a0, '0'
  sb t6, 0(s1)
  csrr s2, mscratch
  li t1, 0x00300513          # li a0, 3
store2:
  sw t1, 0(t0)
  fence.i
  call f
  addi t6, a0, '0'
  sb t6, 0(s1)
  li t6, '\n'
  sb t6, 0(s1)
  li t0, FINISHER
  li t1, 0x5555
  sw t1, 0(t0)
2:
  j 2b
  .balign 4
f:
  li a0, 1
  ret
