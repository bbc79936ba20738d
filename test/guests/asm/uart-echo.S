# UART receive by polling LSR.DR: echoes the input in upper case until a newline, then counts bytes.
# vmlab-input: "hello, vmlab!\n"
.include "runtime.inc"

.text
main:
  li s2, UART0
  li s3, 0
1:
  lbu t0, 5(s2)
  andi t0, t0, 1
  beqz t0, 1b
  lbu s0, 0(s2)
  addi s3, s3, 1
  li t0, 'a'
  blt s0, t0, 2f
  li t0, 'z'
  bgt s0, t0, 2f
  addi s0, s0, 'A' - 'a'
2:
  mv a0, s0
  call putc
  li t0, 10
  bne s0, t0, 1b
  PR "bytes", s3
  lbu s0, 5(s2)
  andi s0, s0, 1
  PR "lsr.dr after", s0
  EXIT 0
