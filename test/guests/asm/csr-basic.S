# Zicsr: csrrw/csrrs/csrrc and immediate forms, reads without writes (rs1 = x0 / uimm = 0),
# the standard bits of the interrupt and delegation registers, the id CSRs and mtvec modes.
.include "runtime.inc"

.text
main:
  li t0, 0x12345678
  csrrw s0, mscratch, t0
  csrrs s0, mscratch, zero
  PR "mscratch", s0
  li t0, 0xff
  csrrs s0, mscratch, t0
  PX "csrrs-old", s0
  PCSR "new", mscratch
  li t0, 0xf0f0f0f0
  csrrc s0, mscratch, t0
  PX "csrrc-old", s0
  PCSR "new", mscratch
  csrrwi s0, mscratch, 0x1f
  PX "csrrwi-old", s0
  PCSR "new", mscratch
  csrrsi s0, mscratch, 0x0
  PX "csrrsi0", s0
  csrrsi s0, mscratch, 0x20 - 1
  csrrci s0, mscratch, 0x5
  PX "csrrci-old", s0
  PCSR "new", mscratch
  li t0, -1
  csrw mie, t0
  csrr s0, mie
  li t0, 0xaaa
  and s0, s0, t0
  PR "mie-mask-std", s0
  csrw mie, zero
  li t0, -1
  csrw mideleg, t0
  csrr s0, mideleg
  andi s0, s0, 0x222
  PR "mideleg-mask-std", s0
  csrw mideleg, zero
  li t0, -1
  csrw medeleg, t0
  csrr s0, medeleg
  li t0, 0xb3ff
  and s0, s0, t0
  PR "medeleg-mask-std", s0
  csrw medeleg, zero
  li t0, -1
  csrw sie, t0
  PCSR "sie-undelegated", sie
  li t0, -1
  csrw mideleg, t0
  li t0, -1
  csrw sie, t0
  csrr s0, sie
  andi s0, s0, 0x222
  PR "sie-delegated", s0
  csrr s0, mie
  li t0, 0xaaa
  and s0, s0, t0
  PR "mie-after-sie", s0
  csrw mie, zero
  csrw mideleg, zero
  li t0, 0x80000101
  csrw mtvec, t0
  PCSR "mtvec-vectored", mtvec
  li t0, 0x80000100
  csrw mtvec, t0
  PCSR "mtvec-direct", mtvec
  la t0, mtrap_entry
  csrw mtvec, t0
  li t0, 0x80000204
  csrw stvec, t0
  PCSR "stvec", stvec
  li t0, 0x80001002
  csrw sepc, t0
  PCSR "sepc-align", sepc
  csrw mepc, t0
  PCSR "mepc-align", mepc
  csrw sscratch, t0
  PCSR "sscratch", sscratch
  li t0, -1
  csrw scause, t0
  PCSR "scause", scause
  csrw mcause, t0
  PCSR "mcause", mcause
  li t0, 0x1234
  csrw stval, t0
  PCSR "stval", stval
  csrw mtval, t0
  PCSR "mtval", mtval
  PCSR "mvendorid", mvendorid
  PCSR "mhartid", mhartid
  li t0, MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_MPIE
  csrs mstatus, t0
  csrr s0, mstatus
  li t1, 0x007e19aa
  and s0, s0, t1
  PR "mstatus-set", s0
  csrr s0, sstatus
  li t1, 0x000c0122
  and s0, s0, t1
  PR "sstatus-view", s0
  csrc mstatus, t0
  csrr s0, mstatus
  and s0, s0, t1
  PR "mstatus-clear", s0
  csrw satp, zero
  li t0, 0x80012345
  csrw satp, t0
  PCSR "satp", satp
  csrw satp, zero
  EXIT 0
