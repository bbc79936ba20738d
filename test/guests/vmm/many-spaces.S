# A guest kernel with 40 address spaces (satp with ASIDs 1 to 40), each mapping the 31 pages from
# REGION to a page of its own that holds a counter. It visits the first 8 spaces 100 times, then all
# 40 spaces 4 times, each visit a csrw satp, a load through page i mod 31 of REGION (i: the space)
# checked against the count it expects and a store of the next count, so a translation kept from
# another space (a TLB entry or a shadow table of a VMM) gives a wrong count. Exits 0 (finisher
# 0x5555) when every load gave its space's count, else 1 (0x13333).
  .option norvc
  .equ N, 40
  .equ TABLES, 0x80100000         # root i at TABLES + i * 0x2000, its level-0 table 0x1000 above
  .equ DATA, 0x80200000           # space i's page at DATA + i * 0x1000
  .equ EXPECT, 0x80300000         # the count each space's page should hold
  .equ REGION, 0x40123000         # its TLB slot (vpn & 1023) is no code page's
  .equ FINISHER, 0x100000
  .globl _start
_start:
  la t0, fail
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li s0, 0
  li s1, TABLES
  li s2, DATA
  li s3, EXPECT
1:
  # A megapage over the kernel (RWX), one over the finisher (RW), REGION through the level-0 table.
  li t0, (0x80000 << 10) | 0xcf
  li t2, 4 * (0x80000000 >> 22)
  add t2, t2, s1
  sw t0, 0(t2)
  li t0, 0xc7
  sw t0, 0(s1)
  li t2, 0x1000
  add t1, s1, t2
  srli t0, t1, 12
  slli t0, t0, 10
  ori t0, t0, 1
  sw t0, 4 * (REGION >> 22)(s1)
  srli t0, s2, 12
  slli t0, t0, 10
  ori t0, t0, 0xc7
  addi t1, t1, 4 * ((REGION >> 12) & 0x3ff)
  li t2, 31
2:
  sw t0, 0(t1)
  addi t1, t1, 4
  addi t2, t2, -1
  bnez t2, 2b
  addi t0, s0, 1000
  sw t0, 0(s2)
  sw t0, 0(s3)
  li t2, 0x2000
  add s1, s1, t2
  li t2, 0x1000
  add s2, s2, t2
  addi s3, s3, 4
  addi s0, s0, 1
  li t2, N
  bne s0, t2, 1b
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret

smain:
  li a0, 8
  li a1, 100
  call visit
  li a0, N
  li a1, 4
  call visit
  li t0, FINISHER
  li t1, 0x5555
  sw t1, 0(t0)
2:
  j 2b

# visit(a0 = spaces, a1 = rounds): each round, each space 0..a0-1 in turn.
visit:
1:
  li s0, 0
  li s1, TABLES
  li s3, EXPECT
  li s4, REGION
  li s5, 0
2:
  srli t0, s1, 12
  addi t1, s0, 1
  slli t1, t1, 22
  or t0, t0, t1
  li t1, 0x80000000
  or t0, t0, t1
  csrw satp, t0
  lw t0, 0(s4)
  lw t1, 0(s3)
  bne t0, t1, fail
  addi t0, t0, 1
  sw t0, 0(s4)
  sw t0, 0(s3)
  li t2, 0x2000
  add s1, s1, t2
  addi s3, s3, 4
  # The next space's page of REGION: i mod 31.
  li t2, 0x1000
  add s4, s4, t2
  addi s5, s5, 1
  li t2, 31
  bne s5, t2, 3f
  li s4, REGION
  li s5, 0
3:
  addi s0, s0, 1
  bne s0, a0, 2b
  addi a1, a1, -1
  bnez a1, 1b
  ret

fail:
  li t0, FINISHER
  li t1, (1 << 16) | 0x3333
  sw t1, 0(t0)
3:
  j 3b
