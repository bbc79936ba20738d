# Sv32 with 4 KiB pages: a level-1 table under a root entry, two virtual pages aliasing one frame,
# remapping a page followed by sfence.vma, and the data seen physically from M.
.include "runtime.inc"

.equ VA_WIN, 0x40000000

.text
main:
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
  li s2, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  la a0, l1
  li a1, VA_WIN
  la a2, page_a
  mv a3, s2
  call pt_4k
  li a1, VA_WIN + 0x1000
  la a2, page_b
  call pt_4k
  li a1, VA_WIN + 0x2000
  la a2, page_a
  call pt_4k
  li a1, VA_WIN + 0x3ff000
  la a2, page_b
  call pt_4k
  la t0, page_a
  li t1, 0xaaaa0001
  sw t1, 0(t0)
  la t0, page_b
  li t1, 0xbbbb0002
  sw t1, 0(t0)
  li t1, 0xbbbb0ffc
  addi t0, t0, 2047
  sw t1, 0xffc - 2047(t0)
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li s0, VA_WIN
  lw s1, 0(s0)
  PR "va0", s1
  li s0, VA_WIN + 0x1000
  lw s1, 0(s0)
  PR "va1", s1
  li s0, VA_WIN + 0x3ffffc
  lw s1, 0(s0)
  PR "va-last", s1
  li s0, VA_WIN + 0x2000
  li t0, 0x12345678
  sw t0, 8(s0)
  li s0, VA_WIN
  lw s1, 8(s0)
  PR "alias", s1
  csrr s1, satp
  PR "satp mode", s1
  TO_M remap
remap:
  la t0, page_a
  lw s1, 8(t0)
  PR "physical", s1
  la a0, l1
  li a1, VA_WIN + 0x1000
  la a2, page_a
  li a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  call pt_4k
  GOTO_MODE 1, in_s2
in_s2:
  li s0, VA_WIN + 0x1000
  sfence.vma s0, zero
  lw s1, 0(s0)
  PR "after remap", s1
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root: .space 4096
l1: .space 4096
page_a: .space 4096
page_b: .space 4096
