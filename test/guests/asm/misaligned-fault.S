# A misaligned access whose second part falls on an unmapped page: the page fault's cause and tval.
.include "runtime.inc"

.equ VA, 0x40000000

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
  li a3, PTE_RWX_AD
  call pt_4k
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li t0, VA + 0xffe
  lw s0, 0(t0)
  li t0, VA + 0xfff
  sh s0, 0(t0)
  TO_M done
done:
  la t0, frame
  li t1, 0xfff
  add t0, t0, t1
  lbu s0, 0(t0)
  PR "byte before the fault", s0
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root: .space 4096
l1: .space 4096
frame: .space 4096
