# PMP: a NAPOT read-only region and a TOR no-access region for S and U (M unaffected while unlocked),
# priority of the lowest-numbered match (over an NA4 entry), no match = denied in S, and a locked
# entry that binds M and ignores later writes.
.include "runtime.inc"

.macro PROBE name, reg
  PUTS "\name: "
  lw s1, 0(\reg)
  PX "load", s1
  sw s1, 0(\reg)
  PUTS "stored\n"
.endm

.text
main:
  SET_MHOOK mhook_report_skip
  la s2, region_ro
  la s3, region_none
  la s4, region_lock
  srli t0, s2, 2
  ori t0, t0, (4096 / 8) - 1
  csrw pmpaddr0, t0
  srli t0, s3, 2
  csrw pmpaddr1, t0
  li t0, 4096
  add t0, t0, s3
  srli t0, t0, 2
  csrw pmpaddr2, t0
  addi t0, s2, 16
  srli t0, t0, 2
  csrw pmpaddr4, t0
  li t0, (0x08 << 16) | (0x00 << 8) | 0x19
  csrw pmpcfg0, t0
  li t0, 0x17
  csrw pmpcfg1, t0
  PCSR "pmpcfg0", pmpcfg0
  PCSR "pmpcfg1", pmpcfg1
  PCSR "pmpaddr0", pmpaddr0
  PCSR "pmpaddr2", pmpaddr2
  PUTS "== M\n"
  PROBE ro, s2
  PROBE none, s3
  GOTO_MODE 1, in_s
in_s:
  PUTS "== S\n"
  PROBE ro, s2
  PROBE none, s3
  addi s5, s2, 16
  PROBE na4, s5
  li t0, MSTATUS_SPP
  csrc sstatus, t0
  la t0, in_u
  csrw sepc, t0
  sret
in_u:
  PUTS "== U\n"
  PROBE ro, s2
  PROBE none, s3
  TO_M m2
m2:
  PUTS "== S, no matching entry\n"
  csrw pmpcfg1, zero
  li t0, (0x80000000 >> 2) | ((128 << 20) / 8 - 1)
  csrw pmpaddr14, t0
  li t0, (0x1d << 16)
  csrw pmpcfg3, t0
  PCSR "pmpcfg3", pmpcfg3
  GOTO_MODE 1, in_s2
in_s2:
  li s5, UART0
  lbu s1, 5(s5)
  lw s1, 0(s2)
  sw s1, 0(s2)
  TO_M m3
m3:
  li t0, 0x1f000000
  csrw pmpcfg3, t0
  PUTS "== locked entry 3\n"
  srli t0, s4, 2
  ori t0, t0, (4096 / 8) - 1
  csrw pmpaddr3, t0
  li t0, 0x99 << 24
  csrs pmpcfg0, t0
  PROBE lock, s4
  csrw pmpaddr3, zero
  csrr s0, pmpaddr3
  srli t0, s4, 2
  sub s0, s0, t0
  PR "pmpaddr3 after write", s0
  li t0, 0xff << 24
  csrc pmpcfg0, t0
  PCSR "pmpcfg0 after clear", pmpcfg0
  EXIT 0

.bss
.balign 4096
region_ro: .space 4096
region_none: .space 4096
region_lock: .space 4096
