# Start-up code for the C guests (M-mode, no paging): stack, gp, cleared bss, a trap vector that
# reports the trap and fails, then main; main's return value is the exit code (see stdio-uart.c).
.section .text.init, "ax"
.globl _start
_start:
  la sp, __stack_top
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la t0, crt0_trap
  csrw mtvec, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  li a0, 0
  li a1, 0
  li a2, 0
  call main
  call exit

.text
.balign 4
crt0_trap:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call crt0_report_trap
1:
  j 1b
