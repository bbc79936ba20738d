# A legacy virtio-blk driver that never writes InterruptACK, as xv6's driver before 2020: the disk's
# line stays high after the first request. It finds the disk on whichever virtio-mmio slot holds one
# (lowest slot first), reads sectors 0..3 one at a time through the PLIC's M context and counts the
# external interrupts each request brings. On QEMU 7.2 each request brings exactly one (its PLIC
# pends a source when the device raises the line and a completion does not re-pend it); a PLIC that
# re-pends at completion while the line is high interrupts for ever (the handler stops at 16).
# Needs one disk whose sector n starts with the word 0x5ec70000 + n (test/devices/plic-noack.test.ts).
.include "runtime.inc"

.equ VIRTIO0, 0x10001000
.equ R_MAGIC, 0x000
.equ R_VERSION, 0x004
.equ R_DEVICE_ID, 0x008
.equ R_GUEST_PAGE_SIZE, 0x028
.equ R_QUEUE_SEL, 0x030
.equ R_QUEUE_NUM, 0x038
.equ R_QUEUE_ALIGN, 0x03c
.equ R_QUEUE_PFN, 0x040
.equ R_QUEUE_NOTIFY, 0x050
.equ R_INTERRUPT_STATUS, 0x060
.equ R_STATUS, 0x070
.equ QSIZE, 8
.equ REQUESTS, 4
.equ STORM, 16

.text
main:
  SET_MHOOK mhook_ext
  # Find the first slot whose DeviceID is 2 (block).
  li s0, VIRTIO0
  li s1, 0
1:
  lw t0, R_DEVICE_ID(s0)
  li t1, 2
  beq t0, t1, found
  li t0, 0x1000
  add s0, s0, t0
  addi s1, s1, 1
  li t0, 8
  blt s1, t0, 1b
  PUTS "no disk\n"
  EXIT 1
found:
  PR "slot", s1
  lw t0, R_VERSION(s0)
  PR "version", t0
  addi s2, s1, 1                  # PLIC source = slot + 1
  # Legacy initialisation: reset, ACKNOWLEDGE | DRIVER, no features, one queue of QSIZE, DRIVER_OK.
  sw zero, R_STATUS(s0)
  li t0, 3
  sw t0, R_STATUS(s0)
  li t0, 4096
  sw t0, R_GUEST_PAGE_SIZE(s0)
  sw zero, R_QUEUE_SEL(s0)
  li t0, QSIZE
  sw t0, R_QUEUE_NUM(s0)
  li t0, 4096
  sw t0, R_QUEUE_ALIGN(s0)
  la t0, queue
  srli t0, t0, 12
  sw t0, R_QUEUE_PFN(s0)
  li t0, 7
  sw t0, R_STATUS(s0)
  # PLIC: the disk's source at priority 1, enabled for the M context, threshold 0.
  slli t0, s2, 2
  li t1, PLIC_PRIORITY
  add t0, t0, t1
  li t1, 1
  sw t1, 0(t0)
  li t0, PLIC_ENABLE_M
  li t1, 1
  sll t1, t1, s2
  sw t1, 0(t0)
  li t0, PLIC_THRESHOLD_M
  sw zero, 0(t0)
  li t0, 0x800
  csrs mie, t0
  csrsi mstatus, MSTATUS_MIE

  li s3, 0                        # request number
request:
  # Three descriptors: header (device reads), data (device writes), status (device writes).
  la t0, header
  sw zero, 0(t0)                  # VIRTIO_BLK_T_IN
  sw zero, 4(t0)
  sw s3, 8(t0)                    # sector
  sw zero, 12(t0)
  la t1, queue
  sw t0, 0(t1)
  sw zero, 4(t1)
  li t2, 16
  sw t2, 8(t1)
  li t2, 0x00010001               # flags NEXT, next 1
  sw t2, 12(t1)
  la t0, data
  sw t0, 16(t1)
  sw zero, 20(t1)
  li t2, 512
  sw t2, 24(t1)
  li t2, 0x00020003               # flags NEXT | WRITE, next 2
  sw t2, 28(t1)
  la t0, status
  li t2, 0xff
  sb t2, 0(t0)
  sw t0, 32(t1)
  sw zero, 36(t1)
  li t2, 1
  sw t2, 40(t1)
  li t2, 2                        # flags WRITE
  sw t2, 44(t1)
  # avail.ring[idx % QSIZE] = 0, then idx + 1.
  addi t2, t1, 16 * QSIZE         # avail
  lhu t3, 2(t2)
  andi t4, t3, QSIZE - 1
  slli t4, t4, 1
  add t4, t4, t2
  sh zero, 4(t4)
  fence rw, rw
  addi t3, t3, 1
  sh t3, 2(t2)
  fence rw, rw
  sw zero, R_QUEUE_NOTIFY(s0)
  # Wait for the used index, then for the interrupt (bounded).
  li t5, 4096
  add t5, t5, t1                  # used ring at the next page (QueueAlign 4096)
  addi t6, s3, 1
  li s4, 20000000
2:
  lhu t0, 2(t5)
  beq t0, t6, 3f
  addi s4, s4, -1
  bnez s4, 2b
  PUTS "no completion\n"
  EXIT 2
3:
  la t0, irqs
4:
  lw t2, 0(t0)
  bgeu t2, t6, 5f
  addi s4, s4, -1
  bnez s4, 4b
  PUTS "no interrupt\n"
  EXIT 3
5:
  # Give a second (wrong) interrupt time to arrive.
  li t0, 20000
6:
  addi t0, t0, -1
  bnez t0, 6b
  la t0, status
  lbu t0, 0(t0)
  PX "status", t0
  la t0, data
  lw t0, 0(t0)
  PX "word", t0
  la t0, irqs
  lw t0, 0(t0)
  PR "interrupts", t0
  addi s3, s3, 1
  li t0, REQUESTS
  blt s3, t0, request

  csrci mstatus, MSTATUS_MIE
  lw t0, R_INTERRUPT_STATUS(s0)
  PR "interrupt status", t0
  li t0, PLIC_PENDING
  lw t0, 0(t0)
  PR "plic pending", t0
  csrr t0, mip
  li t1, 0x800
  and t0, t0, t1
  PR "meip", t0
  EXIT 0

# M external interrupt: claim, count, complete; never touches the device.
mhook_ext:
  li t0, PLIC_CLAIM_M
  lw t1, 0(t0)
  bne t1, s2, 8f
  sw t1, 0(t0)
  la t0, irqs
  lw t1, 0(t0)
  addi t1, t1, 1
  sw t1, 0(t0)
  li t2, STORM
  bgeu t1, t2, 9f
  j mtrap_return
8:
  PR "unexpected claim", t1
  EXIT 4
9:
  PUTS "interrupt storm\n"
  EXIT 5

.data
.align 2
irqs: .word 0
header: .space 16
status: .byte 0
.align 4
data: .space 512
.align 12
queue: .space 8192
