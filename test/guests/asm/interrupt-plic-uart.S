# External interrupt: the UART's transmitter-empty interrupt through the PLIC to the M context and,
# delegated, to the S context; threshold masking; claim/complete and the UART IIR/LSR values.
.include "runtime.inc"

.text
main:
  SET_MHOOK mhook_ext
  li t0, PLIC_PRIORITY + 4 * UART_IRQ
  li t1, 1
  sw t1, 0(t0)
  lw s0, 0(t0)
  PR "priority", s0
  li t0, PLIC_ENABLE_M
  li t1, 1 << UART_IRQ
  sw t1, 0(t0)
  li t0, PLIC_THRESHOLD_M
  li t1, 1
  sw t1, 0(t0)
  li t0, UART0
  lbu s0, 5(t0)
  PR "lsr", s0
  lbu s0, 2(t0)
  PR "iir idle", s0
  li t1, 0x02
  sb t1, 1(t0)
  lbu s0, 1(t0)
  PR "ier", s0
  lbu s0, 2(t0)
  PR "iir thre", s0
  li t1, 0x02
  sb t1, 1(t0)
  li t0, PLIC_PENDING
  lw s0, 0(t0)
  PR "plic pending", s0
  csrr s0, mip
  li t0, 0x800
  and s0, s0, t0
  PR "meip with threshold 1", s0
  li t0, 0x800
  csrs mie, t0
  csrsi mstatus, MSTATUS_MIE
  li t0, PLIC_THRESHOLD_M
  sw zero, 0(t0)
  la s1, fired
1:
  lw t0, 0(s1)
  beqz t0, 1b
  csrci mstatus, MSTATUS_MIE
  PUTS "M external interrupt: done\n"
  li t0, PLIC_ENABLE_M
  sw zero, 0(t0)
  PUTS "-- S context\n"
  li t0, 0x200
  csrw mideleg, t0
  csrs mie, t0
  li t0, PLIC_ENABLE_S
  li t1, 1 << UART_IRQ
  sw t1, 0(t0)
  li t0, PLIC_THRESHOLD_S
  sw zero, 0(t0)
  SET_SHOOK shook_ext
  GOTO_MODE 1, in_s
in_s:
  li t0, UART0
  li t1, 0x02
  sb t1, 1(t0)
  csrsi sstatus, MSTATUS_SIE
  la s1, fired
2:
  lw t0, 0(s1)
  li t1, 2
  bne t0, t1, 2b
  csrci sstatus, MSTATUS_SIE
  TO_M done
done:
  csrr s0, mip
  li t0, 0x200
  and s0, s0, t0
  PR "seip after complete", s0
  EXIT 0

mhook_ext:
  li t0, PLIC_CLAIM_M
  lw s1, 0(t0)
  li t0, UART0
  lbu s2, 2(t0)
  sb zero, 1(t0)
  lw s0, FRAME_CAUSE(sp)
  PX "mcause", s0
  PX "claim", s1
  PR "iir", s2
  li t0, PLIC_CLAIM_M
  lw s3, 0(t0)
  PR "second claim", s3
  sw s1, 0(t0)
  la t0, fired
  li t1, 1
  sw t1, 0(t0)
  j mtrap_return

shook_ext:
  li t0, PLIC_CLAIM_S
  lw s1, 0(t0)
  li t0, UART0
  sb zero, 1(t0)
  lw s0, FRAME_CAUSE(sp)
  PX "scause", s0
  PR "claim", s1
  li t0, PLIC_CLAIM_S
  sw s1, 0(t0)
  la t0, fired
  li t1, 2
  sw t1, 0(t0)
  j strap_return

.data
fired: .word 0
