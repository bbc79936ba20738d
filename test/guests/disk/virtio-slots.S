# Lists the eight virtio-mmio slots: for each, its DeviceID and, for a block device, its capacity in
# sectors (the low word of the configuration space). Tells which disk sits in which slot
# (test/devices/disk-slots.test.ts gives each disk another size).
.include "runtime.inc"

.equ VIRTIO0, 0x10001000

.text
main:
  li s0, VIRTIO0
  li s1, 0
1:
  PX "slot", s1
  lw t0, 8(s0)
  PX "device", t0
  li t1, 2
  li s2, 0
  bne t0, t1, 2f
  lw s2, 0x100(s0)
2:
  PR "sectors", s2
  li t0, 0x1000
  add s0, s0, t0
  addi s1, s1, 1
  li t0, 8
  blt s1, t0, 1b
  EXIT 0
