# A stand-in for xv6's console, for the real-guest scripts' own tests: prints xv6's boot line and
# a "$ " prompt on UART0, reads lines and answers the commands of the xv6 script in docs/guests.md
# by their first letter (ls, echo hello vmlab, cat README | grep xv6 | wc, mkdir ...; any other line
# just gets a new prompt), and for "usertests" prints a transcript shaped as xv6's usertests prints
# it (a kernel message with a pid inside a test's line, ALL TESTS PASSED). Runs in M-mode from the
# start of RAM, as xv6 does with -bios none; the disk is attached but never read.
  .equ UART, 0x10000000
  .globl _start
_start:
  li s0, UART
  la a0, banner
  call puts
prompt:
  la a0, dollar
  call puts
  # Read one line, echoing it as a tty does; its first character picks the answer.
  li s1, 0
1:
  call getc
  call putc
  li t0, '\n'
  beq a0, t0, 2f
  li t0, '\r'
  beq a0, t0, 2f
  bnez s1, 1b
  mv s1, a0
  j 1b
2:
  beqz s1, prompt
  li t0, 'l'
  la a0, listing
  beq s1, t0, answer
  li t0, 'e'
  la a0, hello
  beq s1, t0, answer
  li t0, 'c'
  la a0, counts
  beq s1, t0, answer
  li t0, 'm'
  la a0, written
  beq s1, t0, answer
  li t0, 'u'
  la a0, usertests
  beq s1, t0, answer
  j prompt
answer:
  call puts
  j prompt

# puts(a0): the NUL-terminated string at a0, waiting for THR empty before each byte.
puts:
  lbu t1, 0(a0)
  beqz t1, 2f
1:
  lbu t2, 5(s0)
  andi t2, t2, 0x20
  beqz t2, 1b
  sb t1, 0(s0)
  addi a0, a0, 1
  j puts
2:
  ret

# putc(a0): one byte, a0 kept.
putc:
  lbu t2, 5(s0)
  andi t2, t2, 0x20
  beqz t2, putc
  sb a0, 0(s0)
  ret

# getc: the next byte from the UART (polls LSR.DR).
getc:
  lbu t2, 5(s0)
  andi t2, t2, 1
  beqz t2, getc
  lbu a0, 0(s0)
  ret

  .section .rodata
banner: .asciz "\nxv6 kernel is booting\n\ninit: starting sh\n"
dollar: .asciz "$ "
listing: .asciz ".              1 1 1024\nREADME         2 2 2305\nusertests      2 3 70000\n"
hello: .asciz "hello vmlab\n"
counts: .asciz "1 12 71\n"
written: .asciz "written\n"
usertests:
  .ascii "usertests starting\n"
  .ascii "test sbrkbugs: usertrap(): unexpected scause 0x0000000c pid=3207\n"
  .ascii "            sepc=0x00005320 stval=0x00005320\n"
  .ascii "OK\n"
  .ascii "test preempt: kill... wait... OK\n"
  .ascii "test bigdir: OK\n"
  .asciz "ALL TESTS PASSED\n"
