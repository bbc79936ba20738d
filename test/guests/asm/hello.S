# Smallest guest: prints a greeting and a few register values, then passes.
.include "runtime.inc"

.text
main:
  PUTS "hello from the guest\n"
  csrr s0, mhartid
  PR "mhartid", s0
  li s1, 0x12345678
  PR "value", s1
  EXIT 0
