# Page faults: cause and tval for loads, stores, LR and fetches of unmapped addresses from S and U,
# an invalid root entry, a non-leaf entry at level 0, and the same faults from S delegated to S.
.include "runtime.inc"

.equ VA, 0x40000000

.macro PROBES
  li t0, 0x50000124
  lw s1, 0(t0)
  li t0, 0x50000128
  sh s1, 2(t0)
  li t0, 0x50000130
  lr.w s1, (t0)
  li t0, 0x50000138
  jalr ra, 0(t0)
  li t0, VA + 0x1ff8
  lw s1, 0(t0)
  li t0, VA + 0x2010
  lb s1, 0(t0)
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root_s
  li a1, 4096 * 4
  call memzero
  la a0, root_s
  li a3, PTE_RWX_AD
  call pt_identity
  la a0, root_u
  li a3, PTE_RWX_AD | PTE_U
  call pt_identity
  la a0, root_s
  li a1, VA
  la a2, l1
  call pt_link
  la a0, root_u
  li a1, VA
  la a2, l1
  call pt_link
  la a0, l1
  li a1, VA
  la a2, frame
  li a3, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
  call pt_4k
  la t0, l1
  la t1, frame
  srli t1, t1, 12
  slli t1, t1, 10
  ori t1, t1, PTE_V
  sw t1, 8(t0)
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  PUTS "== S\n"
  la a0, root_s
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  PROBES
  TO_M m2
m2:
  PUTS "== U\n"
  la a0, root_u
  call satp_on
  GOTO_MODE 0, in_u
in_u:
  PROBES
  TO_M m3
m3:
  PUTS "== S, delegated to S\n"
  li t0, (1 << 12) | (1 << 13) | (1 << 15)
  csrw medeleg, t0
  la a0, root_s
  call satp_on
  GOTO_MODE 1, in_s2
in_s2:
  PROBES
  TO_M done
done:
  csrw medeleg, zero
  csrw satp, zero
  sfence.vma
  EXIT 0

.bss
.balign 4096
root_s: .space 4096
root_u: .space 4096
l1: .space 4096
frame: .space 4096
