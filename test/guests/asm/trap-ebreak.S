# ebreak and c.ebreak from M, S and U: cause 3 with the epc and tval QEMU reports.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_report_skip
  ebreak
  c.ebreak
  GOTO_MODE 1, in_s
in_s:
  ebreak
  c.ebreak
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  ebreak
  c.ebreak
  TO_M done
done:
  PUTS "done\n"
  EXIT 0
