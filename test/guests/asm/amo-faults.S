# Faulting AMOs: misaligned (the spec's cause 6) and on an unmapped page (the spec's cause 15).
# QEMU 7.2 emulates AMOs as a load then a store and reports the load causes (4 and 13) instead;
# a difference in this program alone is that QEMU deviation, not a vmlab bug.
.include "runtime.inc"

.equ VA, 0x40000000

.data
.balign 16
buf: .word 0x03020100, 0x07060504

.text
main:
  SET_MHOOK mhook_report_skip
  la s2, buf
  li t0, 5
  amoadd.w s0, t0, (s2)
  PR "aligned amoadd old", s0
  addi t1, s2, 2
  amoadd.w s0, t0, (t1)
  amoswap.w s0, t0, (t1)
  lr.w s0, (t1)
  lw s0, 0(s2)
  PR "word0", s0
  lw s0, 4(s2)
  PR "word1", s0
  la a0, root
  li a1, 4096
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li t0, VA + 0x10
  amoadd.w s0, t0, (t0)
  amoor.w s0, t0, (t0)
  TO_M done
done:
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root: .space 4096
