# A stand-in for a Linux console, for the real-guest scripts' own tests: prints a boot line and a
# "# " prompt on UART0, reads lines and answers the commands of the Linux script in docs/guests.md
# (uname -sm, echo hello vmlab | cat | wc -c, ls /; any other line just gets a new prompt), and on
# "poweroff" prints Linux's "reboot: Power down" and stops the machine with exit code 0 through
# the test finisher. Runs in M-mode from the start of RAM, as a nommu Linux does with -bios none.
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .globl _start
_start:
  li s0, UART
  la a0, banner
  call puts
prompt:
  la a0, hash
  call puts
  # Read one line into buf, echoing it as a tty does; the first character picks the answer.
  la s1, buf
  mv s2, s1
1:
  call getc
  call putc
  li t0, '\n'
  beq a0, t0, 2f
  li t0, '\r'
  beq a0, t0, 2f
  sb a0, 0(s2)
  addi s2, s2, 1
  j 1b
2:
  beq s1, s2, prompt
  lbu t1, 0(s1)
  li t0, 'u'
  la a0, uname
  beq t1, t0, answer
  li t0, 'e'
  la a0, twelve
  beq t1, t0, answer
  li t0, 'l'
  la a0, listing
  beq t1, t0, answer
  li t0, 'p'
  beq t1, t0, poweroff
  j prompt
answer:
  call puts
  j prompt
poweroff:
  la a0, down
  call puts
  li t0, FINISHER
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b

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
banner: .asciz "console-shell: booted\n"
hash: .asciz "# "
uname: .asciz "Linux riscv32\n"
twelve: .asciz "12\n"
listing: .asciz "bin\nproc\n"
down: .asciz "reboot: Power down\n"

  .bss
buf: .space 256
