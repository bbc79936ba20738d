# Debug triggers (tselect, tdata1..3) as QEMU 7.2's rv32 CPU has them with debug=on: two type-2
# triggers, the bits tdata1 keeps, and breakpoints on execute, load and store in M- and S-mode, each
# reported (cause 3, epc, tval) and skipped. Run by test/cpu/triggers.test.ts against QEMU.
.include "runtime.inc"

.equ TYPE2, 0x20000000
.equ T_LOAD, 1
.equ T_STORE, 2
.equ T_EXEC, 4
.equ T_U, 8
.equ T_S, 16
.equ T_M, 64

.text
main:
  SET_MHOOK mhook_report_skip
  PCSR "tselect", tselect
  PCSR "tdata1 reset", tdata1
  PCSR "tdata2 reset", tdata2
  PCSR "tdata3", tdata3
  li t0, 1
  csrw tselect, t0
  PCSR "tselect 1", tselect
  li t0, 2
  csrw tselect, t0
  PCSR "tselect 2 ignored", tselect
  li t0, 5
  csrw tselect, t0
  PCSR "tselect 5 ignored", tselect
  csrw tselect, zero
  # Every bit of a type-2 tdata1: only size, modes and access kinds stay.
  li t0, 0x2fffffff
  csrw tdata1, t0
  PCSR "tdata1 all bits", tdata1
  li t0, 0x08000000 | T_M | T_LOAD
  csrw tdata1, t0
  PCSR "tdata1 type 0 ignored", tdata1
  li t0, 0xf0000000 | T_M | T_LOAD
  csrw tdata1, t0
  PCSR "tdata1 type 15 ignored", tdata1
  li t0, -1
  csrw tdata3, t0
  PCSR "tdata3 after write", tdata3
  li t0, TYPE2
  csrw tdata1, t0

  PUTS "-- execute, M\n"
  la t0, exec_here
  csrw tdata2, t0
  li t0, TYPE2 | T_M | T_EXEC
  csrw tdata1, t0
  PCSR "tdata1 exec", tdata1
  PCSR "tdata2 exec", tdata2
  li s0, 0
exec_here:
  addi s0, s0, 1
  PR "skipped, s0", s0
  # Only U: M-mode runs it.
  li t0, TYPE2 | T_U | T_EXEC
  csrw tdata1, t0
  call exec_fn
  PR "u-only trigger, s0", s0

  PUTS "-- load and store, M\n"
  la s1, data
  csrw tdata2, s1
  li t0, TYPE2 | T_M | T_LOAD
  csrw tdata1, t0
  li s0, 0x11
  lw s0, 0(s1)
  PR "lw skipped, s0", s0
  lbu s0, 3(s1)
  PR "lbu +3 skipped, s0", s0
  lbu s0, 4(s1)
  PR "lbu +4 ran, s0", s0
  sw zero, 0(s1)
  PUTS "store not watched\n"
  li t0, TYPE2 | T_M | T_STORE | (1 << 16)
  csrw tdata1, t0
  addi t0, s1, 1
  csrw tdata2, t0
  PCSR "tdata1 store size 1", tdata1
  li t0, 0x55
  sb t0, 2(s1)
  li t0, 0x66
  sb t0, 1(s1)
  lw s0, 0(s1)
  PR "word after stores", s0
  li t0, 0x77777777
  sw t0, 0(s1)
  lw s0, 0(s1)
  PR "word after sw", s0

  PUTS "-- second trigger\n"
  li t0, 1
  csrw tselect, t0
  la t0, data2
  csrw tdata2, t0
  li t0, TYPE2 | T_M | T_LOAD
  csrw tdata1, t0
  la t0, data2
  lw s0, 0(t0)
  lbu s0, 1(s1)
  li t0, TYPE2
  csrw tdata1, t0
  csrw tselect, zero
  csrw tdata1, t0

  PUTS "-- sizes and type 6\n"
  PCSR "tinfo", tinfo
  la s1, data
  csrw tdata2, s1
  li t0, TYPE2 | T_M | T_LOAD | (3 << 16)
  csrw tdata1, t0
  PCSR "tdata1 sizelo 3", tdata1
  lbu s0, 2(s1)
  lbu s0, 3(s1)
  li t0, 0x6fffffff
  csrw tdata1, t0
  PCSR "tdata1 type 6 all bits", tdata1
  li t0, 0x60040000 | T_M | T_LOAD
  csrw tdata1, t0
  PCSR "tdata1 type 6 size 4", tdata1
  li t0, 0x60000000 | T_M | T_LOAD
  csrw tdata1, t0
  lbu s0, 7(s1)
  lbu s0, 8(s1)
  PR "type 6 size 0, s0", s0
  li t0, 0x60030000 | T_M | T_STORE
  csrw tdata1, t0
  sb zero, 2(s1)
  sb zero, 3(s1)
  li t0, 0x60000000 | T_M | T_EXEC
  csrw tdata1, t0
  la t0, exec_fn
  csrw tdata2, t0
  li s0, 0
  call exec_fn
  PR "type 6 exec, s0", s0
  li t0, TYPE2
  csrw tdata1, t0

  PUTS "-- execute, S\n"
  la t0, s_here
  csrw tdata2, t0
  li t0, TYPE2 | T_S | T_EXEC
  csrw tdata1, t0
  GOTO_MODE 1, in_s
in_s:
  li s0, 0
s_here:
  addi s0, s0, 1
  TO_M back
back:
  PR "S skipped, s0", s0
  li t0, TYPE2
  csrw tdata1, t0
  call exec_fn
  PR "disarmed, s0", s0
  EXIT 0

exec_fn:
  addi s0, s0, 1
  ret

.data
.align 3
data: .word 0x44332211, 0x88776655
data2: .word 0x12345678
