# A guest for the gdb stub tests: a counting loop that stores its counter, one store to a watched
# word, and a stretch in S-mode with paging on where a word lives only at a virtual address
# (VA_WIN), so a debugger's memory reads must go through the guest's page tables.
.include "runtime.inc"

.equ VA_WIN, 0x40000000

.text
main:
  li s0, 0
  li s1, 10
count_loop:
  addi s0, s0, 1
  la t0, counter
  sw s0, 0(t0)
  blt s0, s1, count_loop
after_loop:
  la t0, watched
  li t1, 0x1234abcd
  sw t1, 0(t0)
stored:
  la a0, root
  li a1, 8192
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  li a1, VA_WIN
  la a2, l1
  call pt_link
  la a0, l1
  li a1, VA_WIN
  la a2, page_v
  li a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  call pt_4k
  la t0, page_v
  li t1, 0xcafef00d
  sw t1, 0(t0)
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li s2, VA_WIN
  lw s3, 0(s2)
in_s_paged:
  li t0, 0x5eed
  sw t0, 4(s2)
  PR "value", s3
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  la t0, counter
  lw s4, 0(t0)
  PR "counter", s4
  EXIT 0

.data
.balign 4
counter: .word 0
watched: .word 0

.bss
.balign 4096
root: .space 4096
l1: .space 4096
page_v: .space 4096
