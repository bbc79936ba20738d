# A guest whose output depends on when its console input arrives: it counts in a loop, looks at the
# UART's LSR.DR every 1024 counts, and prints the count at which each byte came, with the byte, up to
# a newline. Bytes typed at other times give other counts, so a replay that delivers a byte one step
# early or late prints something else (test/cli/replay.test.ts).
.include "runtime.inc"

.text
main:
  PUTS "ready\n"
  li s2, UART0
  li s3, 0
count:
  addi s3, s3, 1
  andi t0, s3, 1023
  bnez t0, count
  lbu t0, 5(s2)
  andi t0, t0, 1
  beqz t0, count
  lbu s0, 0(s2)
  PR "count", s3
  PR "byte", s0
  li t0, 10
  bne s0, t0, count
  EXIT 0
