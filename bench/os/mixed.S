# Mixed-page workload: an S-mode kernel with Sv32 on whose hot code shares pages with the data it
# writes, as kernels whose globals, locks and small structures sit next to their functions. Phase 1
# stores to a counter in the same 4 KiB page as the hot loop but another 128-byte chunk; phase 2
# stores to a word in the same chunk as the hot function (every store overwrites bytes beside code
# that runs); phase 3 keeps a spinlock and a free list in the code page. Prints the three results.
.include "runtime.inc"

.equ ROUNDS, 400000

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

.balign 4096
kmain:
  # Phase 1: a global in the code page, outside the code's chunks.
  li s0, ROUNDS
1:
  mv a0, s0
  call bump_far
  addi s0, s0, -1
  bnez s0, 1b
  la t0, far_counter
  lw s1, 0(t0)
  PR "far", s1
  # Phase 2: a global in the same chunk as the function that writes it.
  li s0, ROUNDS
2:
  mv a0, s0
  call bump_near
  addi s0, s0, -1
  bnez s0, 2b
  la t0, near_counter
  lw s1, 0(t0)
  PR "near", s1
  # Phase 3: lock, pop a node from a free list, push it back, unlock; all in the code page.
  li s0, ROUNDS / 2
3:
  call lock_pop_push
  addi s0, s0, -1
  bnez s0, 3b
  la t0, list_head
  lw s1, 0(t0)
  la t0, lock_count
  lw t1, 0(t0)
  add s1, s1, t1
  PR "list", s1
  li a0, 0
  li a7, SYS_EXIT
  ecall

bump_far:
  la t0, far_counter
  lw t1, 0(t0)
  xor t1, t1, a0
  slli t2, t1, 3
  add t1, t1, t2
  sw t1, 0(t0)
  ret

.balign 128
bump_near:
  la t0, near_counter
  lw t1, 0(t0)
  xor t1, t1, a0
  slli t2, t1, 3
  add t1, t1, t2
  sw t1, 0(t0)
  ret
near_counter: .word 0

.balign 128
lock_pop_push:
  la t0, list_lock
  li t1, 1
1:
  amoswap.w.aq t2, t1, (t0)
  bnez t2, 1b
  la t3, list_head
  lw t4, 0(t3)
  lw t5, 0(t4)
  sw t5, 0(t3)
  lw t6, 4(t4)
  addi t6, t6, 1
  sw t6, 4(t4)
  lw t5, 0(t3)
  sw t5, 0(t4)
  sw t4, 0(t3)
  la t1, lock_count
  lw t2, 0(t1)
  addi t2, t2, 1
  sw t2, 0(t1)
  amoswap.w.rl zero, zero, (t0)
  ret

.balign 1024
far_counter: .word 0
list_lock: .word 0
lock_count: .word 0
list_head: .word node_a
node_a: .word node_b, 0
node_b: .word node_a, 0

.bss
.balign 4096
root: .space 4096
