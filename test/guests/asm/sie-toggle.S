# sstatus.SIE toggled as a kernel's spinlocks do it (xv6's push_off clears it, mostly while it is
# already clear; pop_off sets it again). A delegated S-software interrupt left pending is taken
# exactly after the csrsi that sets SIE, however many clears came before, and never at a clear;
# with nothing pending, setting and clearing SIE takes nothing. The epcs printed are compared with QEMU.
.include "runtime.inc"

.text
main:
  li t0, 0x2
  csrw mideleg, t0
  SET_SHOOK shook_clear
  GOTO_MODE 1, in_s
in_s:
  csrci sstatus, MSTATUS_SIE
  li t0, 2
  csrs sie, t0
  li s3, 3
round:
  li t0, 2
  csrs sip, t0
  li s4, 50
1:
  csrci sstatus, MSTATUS_SIE
  addi s4, s4, -1
  bnez s4, 1b
  PUTS "set SIE\n"
  csrsi sstatus, MSTATUS_SIE
  nop
  csrci sstatus, MSTATUS_SIE
  li s4, 50
2:
  csrsi sstatus, MSTATUS_SIE
  csrci sstatus, MSTATUS_SIE
  addi s4, s4, -1
  bnez s4, 2b
  PUTS "round done\n"
  addi s3, s3, -1
  bnez s3, round
  TO_M done
done:
  EXIT 0

shook_clear:
  li t0, 2
  csrc sip, t0
  j shook_report_skip
