# sstatus.SUM and MXR toggled while the same pages stay in use: a translation used under one
# setting must not serve an access under the other. S-mode loads and stores a U page with SUM=1,
# then again with SUM=0 (page faults), reads an execute-only page with MXR=1 and again with MXR=0
# (a page fault), and uses an S page throughout; three rounds, then 64 quiet rounds that sum what
# the allowed accesses read and count the faults (test/machine/tlb.test.ts also checks that the
# toggles flush nothing).
.include "runtime.inc"

.equ VA, 0x40000000
.equ P_URW, VA
.equ P_XO, VA + 0x1000
.equ P_RW, VA + 0x2000
.equ QUIET, 64

.macro MAP va, frame, flags
  la a0, l1
  li a1, \va
  la a2, \frame
  li a3, \flags
  call pt_4k
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root_s
  li a1, 4096 * 2
  call memzero
  la a0, root_s
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root_s
  li a1, VA
  la a2, l1
  call pt_link
  MAP P_URW, udata, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
  MAP P_XO, code_page, PTE_V | PTE_X | PTE_A
  MAP P_RW, sdata, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  la t0, udata
  li t1, 0x1111
  sw t1, 0(t0)
  la t0, sdata
  li t1, 0x2222
  sw t1, 0(t0)
  la a0, root_s
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  li s3, 3
round:
  li t0, MSTATUS_SUM
  csrs sstatus, t0
  li t0, P_URW
  lw s1, 0(t0)
  PR "sum=1 load u", s1
  li t0, P_URW
  addi s1, s1, 1
  sw s1, 0(t0)
  li t0, MSTATUS_SUM
  csrc sstatus, t0
  PUTS "sum=0 load u: "
  li s1, 0
  li t0, P_URW
  lw s1, 0(t0)
  PR "load", s1
  PUTS "sum=0 store u: "
  li t0, P_URW
  sw zero, 0(t0)
  PUTS "store done\n"
  li t0, P_RW
  lw s1, 0(t0)
  PR "sum=0 load s", s1
  li t0, MSTATUS_MXR
  csrs sstatus, t0
  li t0, P_XO
  lw s1, 0(t0)
  PR "mxr=1 load xo", s1
  li t0, MSTATUS_MXR
  csrc sstatus, t0
  PUTS "mxr=0 load xo: "
  li s1, 0
  li t0, P_XO
  lw s1, 0(t0)
  PR "load", s1
  addi s3, s3, -1
  bnez s3, round
  # Quiet rounds: a fault sets s1 to 0 (the hook skips the load), so the sum counts only the
  # allowed loads.
  SET_MHOOK quiet_hook
  li s3, QUIET
  li s4, 0
  li s5, 0
quiet:
  li t0, MSTATUS_SUM
  csrs sstatus, t0
  li t0, P_URW
  lw s1, 0(t0)
  add s4, s4, s1
  li t0, MSTATUS_SUM
  csrc sstatus, t0
  li t0, P_URW
  li s1, 0
  lw s1, 0(t0)
  add s4, s4, s1
  li t0, P_RW
  lw s1, 0(t0)
  add s4, s4, s1
  addi s3, s3, -1
  bnez s3, quiet
  PR "quiet sum", s4
  PR "quiet faults", s5
  TO_M in_m
in_m:
  EXIT 0

# Counts a fault in the saved s5 and resumes after the faulting load (4 bytes).
quiet_hook:
  lw t0, 84(sp)
  addi t0, t0, 1
  sw t0, 84(sp)
  lw t0, FRAME_EPC(sp)
  addi t0, t0, 4
  sw t0, FRAME_EPC(sp)
  j mtrap_return

.text
.balign 4096
code_page:
  li a0, 0x600d
  ret
.balign 4096

.bss
.balign 4096
root_s: .space 4096
l1: .space 4096
udata: .space 4096
sdata: .space 4096
