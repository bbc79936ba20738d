# Misaligned loads and stores complete (as on QEMU) for every width and offset, in M without paging
# and in S across a page boundary of two mapped pages.
.include "runtime.inc"

.equ VA, 0x40000000

.data
.balign 16
buf: .word 0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c

.text
main:
  SET_MHOOK mhook_report_skip
  la s2, buf
  lh s0, 1(s2)
  PR "lh+1", s0
  lhu s0, 3(s2)
  PR "lhu+3", s0
  lw s0, 1(s2)
  PR "lw+1", s0
  lw s0, 2(s2)
  PR "lw+2", s0
  lw s0, 3(s2)
  PR "lw+3", s0
  li t0, 0x8899aabb
  sw t0, 5(s2)
  sh t0, 11(s2)
  lw s0, 4(s2)
  PR "w4", s0
  lw s0, 8(s2)
  PR "w8", s0
  lw s0, 12(s2)
  PR "w12", s0
  PUTS "-- across pages in S\n"
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
  la a2, frame_b
  li a3, PTE_RWX_AD
  call pt_4k
  li a1, VA + 0x1000
  la a2, frame_a
  call pt_4k
  la t0, frame_b
  li t1, 0x44332211
  li t2, 0xffc
  add t0, t0, t2
  sw t1, 0(t0)
  la t0, frame_a
  li t1, 0x88776655
  sw t1, 0(t0)
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li t0, VA + 0xffe
  lw s0, 0(t0)
  PR "lw across", s0
  li t0, VA + 0xfff
  lh s0, 0(t0)
  PR "lh across", s0
  li t0, VA + 0xffd
  li t1, 0xa1b2c3d4
  sw t1, 0(t0)
  li t0, VA + 0xffc
  lw s0, 0(t0)
  PX "after sw across", s0
  lw s0, 4(t0)
  PR "", s0
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root: .space 4096
l1: .space 4096
frame_a: .space 4096
frame_b: .space 4096
