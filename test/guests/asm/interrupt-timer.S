# CLINT timer: mtimecmp raises MTIP, taken in M; WFI wakes on an enabled pending interrupt even with
# mstatus.MIE = 0; an STIP set by M and delegated is taken in S. Prints no time values.
.include "runtime.inc"

# Sets mtimecmp to mtime + \delta (high word first through an all-ones value, so it never fires early).
.macro ARM_TIMER delta
  li t0, CLINT_MTIME
  lw t1, 0(t0)
  lw t2, 4(t0)
  li t3, \delta
  add t3, t1, t3
  sltu t4, t3, t1
  add t2, t2, t4
  li t0, CLINT_MTIMECMP
  li t4, -1
  sw t4, 4(t0)
  sw t3, 0(t0)
  sw t2, 4(t0)
.endm

.text
main:
  li t0, CLINT_MTIMECMP
  li t1, -1
  sw t1, 0(t0)
  sw t1, 4(t0)
  li t0, CLINT_MTIME
  lw s0, 0(t0)
  li t1, 2000
1:
  addi t1, t1, -1
  bnez t1, 1b
  lw s1, 0(t0)
  sltu s0, s0, s1
  PR "mtime advances", s0
  csrr s0, mip
  andi s0, s0, 0x80
  PR "mtip with mtimecmp=max", s0
  SET_MHOOK mhook_timer
  ARM_TIMER 200
  li t0, 0x80
  csrs mie, t0
  la s1, fired
  # Race-free wait: the flag is checked with MIE clear, so the interrupt cannot slip in between the
  # check and the wfi (it may come before the first wfi: 200 ticks is 20 us, less than QEMU can take
  # to translate the code up to here); the wfi wakes on the pending MTIP and MIE set takes it.
2:
  csrsi mstatus, MSTATUS_MIE
  csrci mstatus, MSTATUS_MIE
  lw t0, 0(s1)
  bnez t0, 4f
  wfi
  j 2b
4:
  PUTS "timer fired: yes\n"
  la t0, last_cause
  lw s0, 0(t0)
  PR "mcause", s0
  ARM_TIMER 100
3:
  wfi
  csrr s0, mip
  andi s0, s0, 0x80
  beqz s0, 3b
  PR "wfi woke with MIE=0, mip.MTIP", s0
  li t0, CLINT_MTIMECMP
  li t1, -1
  sw t1, 4(t0)
  sw t1, 0(t0)
  csrr s0, mip
  andi s0, s0, 0x80
  PR "mtip after mtimecmp=max", s0
  li t0, 0x80
  csrc mie, t0
  PUTS "-- STIP delegated to S\n"
  li t0, 0x20
  csrw mideleg, t0
  csrs mie, t0
  csrs mip, t0
  SET_SHOOK shook_stimer
  GOTO_MODE 1, in_s
in_s:
  csrsi sstatus, MSTATUS_SIE
  nop
  csrci sstatus, MSTATUS_SIE
  TO_M done
done:
  csrr s0, mip
  andi s0, s0, 0x20
  PR "stip still pending", s0
  li t0, 0x20
  csrc mip, t0
  csrr s0, mip
  andi s0, s0, 0x20
  PR "stip cleared by M", s0
  EXIT 0

mhook_timer:
  lw t0, FRAME_CAUSE(sp)
  la t1, last_cause
  sw t0, 0(t1)
  la t1, fired
  li t0, 1
  sw t0, 0(t1)
  li t0, CLINT_MTIMECMP
  li t1, -1
  sw t1, 4(t0)
  sw t1, 0(t0)
  j mtrap_return

shook_stimer:
  li t0, 0x20
  csrc sie, t0
  lw s0, FRAME_CAUSE(sp)
  PR "S timer interrupt scause", s0
  j strap_return

.data
fired: .word 0
last_cause: .word 0
