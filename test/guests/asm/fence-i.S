# Self-modifying code made visible with fence.i: a routine's instruction is rewritten, then called.
.include "runtime.inc"

.text
main:
  call patchme
  PR "before", a0
  la t0, patchme
  li t1, 0x7b700513
  sw t1, 0(t0)
  fence.i
  call patchme
  PR "after", a0
  li t1, 0x00100513
  sw t1, 0(t0)
  fence.i
  call patchme
  PR "again", a0
  fence
  fence rw, rw
  fence.tso
  PUTS "fences ok\n"
  EXIT 0

.data
.balign 4
patchme:
  .option push
  .option norvc
  li a0, 0x42
  ret
  .option pop
