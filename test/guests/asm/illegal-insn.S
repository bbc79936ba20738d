# Illegal instructions: mtval holds the instruction bits (16 or 32), for reserved and unknown
# encodings, absent extensions, read-only or missing CSRs, and privileged instructions in S and U.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  PUTS "-- M\n"
  .half 0x0000
  .word 0xffffffff
  .half 0x6001
  .half 0x6101
  .half 0x4002
  .half 0x8002
  .word 0x02051513
  .word 0x40b57533
  .word 0x00052007
  .word 0x0000000b
  .word 0x0000007f
  .word 0x0000001f
  .word 0x00000073 | (0x003 << 20)
  .word 0x40000033 | (1 << 12)
  .word 0x02000033 | (0x20 << 25)
  csrr a0, 0x7c0
  csrw mvendorid, a0
  csrw mhartid, a0
  li a1, 1
  csrrs a0, cycle, a1
  csrrs a0, mvendorid, zero
  csrrci a0, mvendorid, 0
  PUTS "-- S\n"
  GOTO_MODE 1, in_s
in_s:
  mret
  csrr a0, mstatus
  csrr a0, mscratch
  csrw medeleg, a0
  csrr a0, pmpcfg0
  .word 0x0000000b
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  PUTS "-- U\n"
  mret
  sret
  wfi
  sfence.vma
  csrr a0, sstatus
  csrr a0, sscratch
  csrr a0, satp
  csrr a0, mhartid
  TO_M done
done:
  EXIT 0
