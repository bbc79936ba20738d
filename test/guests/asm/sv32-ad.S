# Sv32 accessed and dirty bits: the hardware sets A on any access and D on a store (as QEMU does),
# for 4 KiB leaves and megapages; each PTE change is followed by sfence.vma.
.include "runtime.inc"

.equ VA, 0x40000000
.equ VA_MEGA, 0x40800000

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root
  li a1, 8192
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  li a1, VA
  la a2, l1
  call pt_link
  la a0, l1
  li a1, VA
  la a2, frame
  li a3, PTE_V | PTE_R | PTE_W
  call pt_4k
  li a1, VA + 0x1000
  li a3, PTE_V | PTE_R | PTE_W
  call pt_4k
  li a1, VA + 0x2000
  la a2, code_page
  li a3, PTE_V | PTE_R | PTE_X
  call pt_4k
  la a0, root
  li a1, VA_MEGA
  li a2, 0x80800000
  li a3, PTE_V | PTE_R | PTE_W
  call pt_mega
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  la s2, l1
  la s3, root
  li t0, VA_MEGA >> 22
  slli t0, t0, 2
  add s3, s3, t0
  lw s0, 0(s2)
  PR "pte0 initial", s0
  li t0, VA
  lw t1, 0(t0)
  lw s0, 0(s2)
  PR "pte0 after load", s0
  sw t1, 0(t0)
  lw s0, 0(s2)
  PR "pte0 after store", s0
  li t0, VA + 0x1000
  sw zero, 0(t0)
  lw s0, 4(s2)
  PR "pte1 after first store", s0
  li t0, VA + 0x2000
  jalr ra, 0(t0)
  lw s0, 8(s2)
  PR "pte2 after fetch", s0
  li t0, VA_MEGA
  lw t1, 0(t0)
  lw s0, 0(s3)
  PR "mega after load", s0
  sw t1, 0(t0)
  lw s0, 0(s3)
  PR "mega after store", s0
  lw s0, 0(s2)
  andi s0, s0, ~(PTE_A | PTE_D)
  sw s0, 0(s2)
  sfence.vma
  li t0, VA
  lw t1, 0(t0)
  lw s0, 0(s2)
  PR "pte0 cleared, after load", s0
  li t0, VA
  sw t1, 0(t0)
  lw s0, 0(s2)
  PR "pte0 after store", s0
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  EXIT 0

.text
.balign 4096
code_page:
  ret
.balign 4096

.bss
.balign 4096
root: .space 4096
l1: .space 4096
frame: .space 4096
