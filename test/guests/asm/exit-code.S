# A failing exit: the test finisher's (code << 16) | 0x3333 gives the process exit code 7.
.include "runtime.inc"

.text
main:
  PUTS "exiting with code 7\n"
  EXIT 7
