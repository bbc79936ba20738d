# Sv32 4 MiB megapages: a window onto RAM at another virtual address, its last byte, a user megapage
# used from U, and a misaligned megapage (ppn[0] != 0), which page-faults.
.include "runtime.inc"

.equ VA_WIN, 0x40000000
.equ PA_WIN, 0x80800000

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root
  li a1, 4096
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  li a1, VA_WIN
  li a2, PA_WIN
  li a3, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  call pt_mega
  li a1, VA_WIN + 0x400000
  li a2, PA_WIN + 0x1000
  call pt_mega
  li a1, VA_WIN + 0x800000
  li a2, PA_WIN
  li a3, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
  call pt_mega
  li t0, PA_WIN
  li t1, 0x11110000
  sw t1, 0(t0)
  li t2, 0x123454
  add t2, t2, t0
  li t1, 0x22220000
  sw t1, 0(t2)
  li t2, 0x3ffffc
  add t2, t2, t0
  li t1, 0x33330000
  sw t1, 0(t2)
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li s0, VA_WIN
  lw s1, 0(s0)
  PR "mega+0", s1
  li t0, 0x123454
  add t0, t0, s0
  lw s1, 0(t0)
  PR "mega+123454", s1
  li t0, 0x3ffffc
  add t0, t0, s0
  lw s1, 0(t0)
  PR "mega-last", s1
  li t0, 0x3fffff
  add t0, t0, s0
  lbu s1, 0(t0)
  PR "mega-last-byte", s1
  li s0, VA_WIN + 0x400000
  lw s1, 0(s0)
  PR "misaligned megapage (not reached)", s1
  sw s1, 4(s0)
  li s0, VA_WIN + 0x800000
  li t0, 0x44440000
  sw t0, 8(s0)
  lw s1, 8(s0)
  PR "S store to U page without SUM (not reached)", s1
  TO_M done
done:
  li t0, PA_WIN
  lw s1, 8(t0)
  PR "physical +8", s1
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root: .space 4096
