# mstatus.TVM (satp and sfence.vma from S), TSR (sret from S), and which CSRs S and U may touch.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  li t0, MSTATUS_TVM
  csrs mstatus, t0
  GOTO_MODE 1, in_s
in_s:
  PUTS "== S, TVM=1\n"
  csrr s0, satp
  csrw satp, zero
  sfence.vma
  PUTS "sret still allowed\n"
  TO_M m2
m2:
  li t0, MSTATUS_TVM
  csrc mstatus, t0
  li t0, MSTATUS_TSR
  csrs mstatus, t0
  GOTO_MODE 1, in_s2
in_s2:
  PUTS "== S, TSR=1\n"
  csrr s0, satp
  PR "satp readable", s0
  sfence.vma
  sret
  TO_M m3
m3:
  li t0, MSTATUS_TSR
  csrc mstatus, t0
  GOTO_MODE 1, in_s3
in_s3:
  PUTS "== S, CSR access\n"
  csrr s0, sstatus
  csrr s0, sie
  csrr s0, sip
  csrr s0, stvec
  csrr s0, scounteren
  csrr s0, senvcfg
  csrr s0, mstatus
  csrr s0, mie
  csrr s0, mtvec
  csrr s0, mepc
  csrr s0, mcounteren
  csrr s0, pmpaddr0
  csrw sscratch, s0
  TO_M m4
m4:
  GOTO_MODE 0, in_u
in_u:
  PUTS "== U, CSR access\n"
  csrr s0, sstatus
  csrr s0, sepc
  csrw sscratch, s0
  csrr s0, mstatus
  TO_M done
done:
  EXIT 0
