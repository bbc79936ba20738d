# Sv32 permissions from S and U: R, W, X, W-only (reserved), invalid, U pages without and with SUM,
# MXR for execute-only pages, fetches from U pages in S and from S pages in U, and MPRV from M.
.include "runtime.inc"

.equ VA, 0x40000000
.equ P_RO, VA
.equ P_RW, VA + 0x1000
.equ P_XO, VA + 0x2000
.equ P_WO, VA + 0x3000
.equ P_URW, VA + 0x4000
.equ P_INV, VA + 0x5000
.equ P_UX, VA + 0x6000
.equ P_SX, VA + 0x7000

# Maps va to frame with flags in the shared level-1 table.
.macro MAP va, frame, flags
  la a0, l1
  li a1, \va
  la a2, \frame
  li a3, \flags
  call pt_4k
.endm

# Loads from va (a trap is reported by the M hook and skipped).
.macro LD name, va
  PUTS "\name: "
  li t0, \va
  lw s1, 0(t0)
  PR "load", s1
.endm

# Stores to va.
.macro ST name, va
  PUTS "\name: "
  li t0, \va
  li t1, 0x5a5a
  sw t1, 4(t0)
  PUTS "store done\n"
.endm

# Calls the code at va (a fetch fault resumes at the return address).
.macro EXEC name, va
  PUTS "\name: "
  li a0, 0
  li t0, \va
  jalr ra, 0(t0)
  PR "exec a0", a0
.endm

# M-mode load from va with MPRV=1 and MPP=mpp; the data access is checked as in mode mpp (the trap
# from M sets MPP=M, and the mret back clears MPRV, so each probe sets both again).
.macro MPRV_LD mpp, name, va
  PUTS "\name: "
  li t2, \va
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, (\mpp << 11) | MSTATUS_MPRV
  csrs mstatus, t0
  lw s1, 0(t2)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  PR "load", s1
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  la a0, root_s
  li a1, 4096 * 3
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
  MAP P_RO, data, PTE_V | PTE_R | PTE_A
  MAP P_RW, data, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  MAP P_XO, code_page, PTE_V | PTE_X | PTE_A
  MAP P_WO, data, PTE_V | PTE_W | PTE_A | PTE_D
  MAP P_URW, data, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
  MAP P_INV, data, PTE_R | PTE_W | PTE_A | PTE_D
  MAP P_UX, code_page, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
  MAP P_SX, code_page, PTE_V | PTE_R | PTE_X | PTE_A
  la t0, data
  li t1, 0xd00d
  sw t1, 0(t0)
  la a0, root_s
  call satp_on
  GOTO_MODE 1, in_s
in_s:
  PUTS "== S, SUM=0 MXR=0\n"
  LD ro, P_RO
  ST ro, P_RO
  LD rw, P_RW
  ST rw, P_RW
  LD xo, P_XO
  EXEC xo, P_XO
  LD wo, P_WO
  ST wo, P_WO
  LD urw, P_URW
  ST urw, P_URW
  LD inv, P_INV
  EXEC ux, P_UX
  EXEC sx, P_SX
  EXEC rw, P_RW
  li t0, MSTATUS_MXR
  csrs sstatus, t0
  PUTS "== S, MXR=1\n"
  LD xo, P_XO
  LD ro, P_RO
  li t0, MSTATUS_MXR
  csrc sstatus, t0
  li t0, MSTATUS_SUM
  csrs sstatus, t0
  PUTS "== S, SUM=1\n"
  LD urw, P_URW
  ST urw, P_URW
  EXEC ux, P_UX
  LD ro, P_RO
  li t0, MSTATUS_SUM
  csrc sstatus, t0
  TO_M to_u
to_u:
  la a0, root_u
  call satp_on
  GOTO_MODE 0, in_u
in_u:
  PUTS "== U\n"
  LD urw, P_URW
  ST urw, P_URW
  LD ro, P_RO
  EXEC ux, P_UX
  EXEC sx, P_SX
  TO_M in_m
in_m:
  la a0, root_s
  call satp_on
  PUTS "== M, MPRV=1\n"
  MPRV_LD 1, mprv-s-urw, P_URW
  MPRV_LD 1, mprv-s-ro, P_RO
  MPRV_LD 0, mprv-u-urw, P_URW
  MPRV_LD 0, mprv-u-ro, P_RO
  MPRV_LD 3, mprv-m-unmapped, 0x80000000
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  csrw satp, zero
  sfence.vma
  la t0, data
  lw s1, 4(t0)
  PR "data+4", s1
  EXIT 0

.text
.balign 4096
code_page:
  li a0, 0x600d
  ret
.balign 4096

.bss
.balign 4096
root_s: .space 4096
root_u: .space 4096
l1: .space 4096
data: .space 4096
