# Exec workload: an S-mode kernel with Sv32 on that, like an operating system's exec, takes two
# frames from a pool (round robin, so every frame keeps receiving other programs), zeroes them,
# copies one of three user programs into them, maps them at USER_VA for U-mode, and runs the
# program until it exits through ecall. The programs keep their globals in the page of their code,
# as small user programs do. Prints the sum of the programs' results.
.include "runtime.inc"

.equ NEXEC, 1500
.equ USER_VA, 0x40000000
.equ POOL_PAIRS, 12
.equ PTE_USER, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D

.text
main:
  la a0, root
  li a1, 8192
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  li a1, USER_VA
  la a2, l1
  call pt_link
  la t0, ktrap
  csrw stvec, t0
  li t0, 1 << 8
  csrw medeleg, t0
  la a0, root
  call satp_on
  GOTO_MODE 1, kmain

# ---- the kernel (S-mode) ----
kmain:
  li s0, NEXEC
  li s1, 0
  li s2, 0
next:
  beqz s0, done
  addi s0, s0, -1
  # The program: s0 mod 3.
  li t0, 3
  remu t0, s0, t0
  slli t0, t0, 3
  la t1, programs
  add t1, t1, t0
  lw s3, 0(t1)
  lw s4, 4(t1)
  # Two frames from the pool.
  addi s2, s2, 1
  li t0, POOL_PAIRS
  bltu s2, t0, 1f
  li s2, 0
1:
  slli s5, s2, 13
  la t0, pool
  add s5, s5, t0
  # Zero both frames (kalloc + memset), then copy the program (exec's loadseg).
  mv a0, s5
  li a1, 8192
  call kzero
  mv t0, s3
  mv t1, s5
2:
  lw t2, 0(t0)
  sw t2, 0(t1)
  addi t0, t0, 4
  addi t1, t1, 4
  bltu t0, s4, 2b
  # Map them (uvmmap) and flush the old mapping.
  la t0, l1
  srli t1, s5, 12
  slli t1, t1, 10
  ori t1, t1, PTE_USER
  sw t1, 0(t0)
  li t2, 1 << 10
  add t1, t1, t2
  sw t1, 4(t0)
  sfence.vma
  # Enter the program (usertrapret).
  la t0, kstate
  sw s0, 0(t0)
  sw s1, 4(t0)
  sw s2, 8(t0)
  sw sp, 12(t0)
  li t0, USER_VA
  csrw sepc, t0
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  sret
done:
  PR "exec sum", s1
  li a0, 0
  li a7, SYS_EXIT
  ecall

# kzero: a0 = address, a1 = bytes (a multiple of 16).
kzero:
  add a1, a1, a0
1:
  sw zero, 0(a0)
  sw zero, 4(a0)
  sw zero, 8(a0)
  sw zero, 12(a0)
  addi a0, a0, 16
  bltu a0, a1, 1b
  ret

.balign 4
ktrap:
  csrr t0, scause
  li t1, 8
  bne t0, t1, kfatal
  la t0, kstate
  lw s0, 0(t0)
  lw s1, 4(t0)
  lw s2, 8(t0)
  lw sp, 12(t0)
  add s1, s1, a0
  j next
kfatal:
  csrr s0, scause
  csrr s1, sepc
  PR "kernel trap", s0
  PR "sepc", s1
  li a0, 3
  li a7, SYS_EXIT
  ecall

# ---- the user programs (copied to USER_VA, never run where they are assembled) ----
.section .rodata
.balign 4
programs:
  .word prog_sum, prog_sum_end
  .word prog_sort, prog_sort_end
  .word prog_hash, prog_hash_end

# Sums a series through a helper that keeps a running total in a global next to the code.
.balign 4
prog_sum:
  li s0, 4000
  li a0, 0
1:
  mv a1, s0
  call 2f
  addi s0, s0, -1
  bnez s0, 1b
  la t0, 3f
  lw a0, 0(t0)
  ecall
2:
  la t0, 3f
  lw t1, 0(t0)
  mul t2, a1, a1
  add t1, t1, t2
  sw t1, 0(t0)
  ret
.balign 4
3: .word 0
prog_sum_end:

# Insertion sort of 96 words generated into its own data area (the same page as the code).
.balign 4
prog_sort:
  la s0, 9f
  li s1, 96
  li t0, 12345
  mv t1, s0
  mv t2, s1
1:
  li t3, 1103515245
  mul t0, t0, t3
  addi t0, t0, 1234
  srli t3, t0, 8
  sw t3, 0(t1)
  addi t1, t1, 4
  addi t2, t2, -1
  bnez t2, 1b
  li t1, 1
2:
  bgeu t1, s1, 5f
  slli t2, t1, 2
  add t2, t2, s0
  lw t3, 0(t2)
3:
  beq t2, s0, 4f
  lw t4, -4(t2)
  bleu t4, t3, 4f
  sw t4, 0(t2)
  addi t2, t2, -4
  j 3b
4:
  sw t3, 0(t2)
  addi t1, t1, 1
  j 2b
5:
  lw a0, 0(s0)
  lw t0, 380(s0)
  add a0, a0, t0
  ecall
.balign 4
9: .space 384
prog_sort_end:

# FNV-style hash of its own code bytes, 40 rounds.
.balign 4
prog_hash:
  li s1, 40
  li a0, 0
1:
  la t0, prog_hash_here
  li t1, 256
  li t2, 0x811c9dc5
  li t3, 16777619
2:
  lbu t4, 0(t0)
  xor t2, t2, t4
  mul t2, t2, t3
  addi t0, t0, 1
  addi t1, t1, -1
  bnez t1, 2b
  add a0, a0, t2
  addi s1, s1, -1
  bnez s1, 1b
  ecall
prog_hash_here:
.balign 4
  .space 256
prog_hash_end:

.data
.balign 4
kstate: .space 16

.bss
.balign 4096
root: .space 4096
l1: .space 4096
pool: .space POOL_PAIRS * 8192
