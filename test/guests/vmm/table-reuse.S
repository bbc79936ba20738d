# A guest kernel frees one of its page-table pages and reuses the page, as xv6 does on every exit:
# it unhooks the level-0 table, fills the page with byte stores through the kernel's own mapping
# (xv6's kfree: memset(pa, 1, 4096)), checks what it wrote, then makes the page a table again with a
# new entry and reads through it, changes that entry and reads again. Exits 0 (finisher 0x5555) when
# every check holds, else 0x3333 with the failing check's number in the upper half. In trap mode the
# VMM write-protects table pages; it must follow the page's change of role both ways.
  .option norvc
  .equ ROOT, 0x80100000
  .equ L0, 0x80101000
  .equ DATA, 0x80200000
  .equ DATA2, 0x80201000
  .equ REGION, 0x40000000
  .equ PTE_V, 1
  .equ PTE_RWAD, 2 | 4 | 64 | 128
  .globl _start
_start:
  la t0, fail
  csrw mtvec, t0
  csrw stvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  # Tables: a megapage over the kernel (and its tables), one over the finisher, REGION through L0.
  li s1, ROOT
  li t0, (0x80000 << 10) | PTE_V | PTE_RWAD | 8
  li t1, ROOT + 4 * (0x80000000 >> 22)
  sw t0, 0(t1)
  li t0, PTE_V | PTE_RWAD
  sw t0, 0(s1)
  li t0, ((L0 >> 12) << 10) | PTE_V
  sw t0, 4 * (REGION >> 22)(s1)
  li s0, L0
  li t0, ((DATA >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 0(s0)
  li t0, 0x11111111
  li t1, DATA
  sw t0, 0(t1)
  li t0, 0x22222222
  li t1, DATA2
  sw t0, 0(t1)
  li t0, 0x80000000 | (ROOT >> 12)
  csrw satp, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret

smain:
  li s2, REGION
  li s3, 4096
  add s3, s3, s0
  # 1: REGION reads DATA through L0 (L0 is now in use as a table).
  li a0, 1
  lw t0, 0(s2)
  li t1, 0x11111111
  bne t0, t1, fail
  # Free the table: unhook it, fence, and fill the page with ones a byte at a time.
  sw zero, 4 * (REGION >> 22)(s1)
  sfence.vma
  mv t0, s0
  li t2, 1
1:
  sb t2, 0(t0)
  addi t0, t0, 1
  bne t0, s3, 1b
  # 2: the page holds 4096 ones.
  li a0, 2
  mv t0, s0
  li t3, 0
2:
  lbu t2, 0(t0)
  add t3, t3, t2
  addi t0, t0, 1
  bne t0, s3, 2b
  li t2, 4096
  bne t3, t2, fail
  # Reuse the page as a table: clear it, map REGION to DATA2, hook it up again.
  mv t0, s0
3:
  sw zero, 0(t0)
  addi t0, t0, 4
  bne t0, s3, 3b
  li t0, ((DATA2 >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 0(s0)
  li t0, ((L0 >> 12) << 10) | PTE_V
  sw t0, 4 * (REGION >> 22)(s1)
  sfence.vma
  # 3: REGION reads DATA2 now.
  li a0, 3
  lw t0, 0(s2)
  li t1, 0x22222222
  bne t0, t1, fail
  # 4: a table write after the reuse is seen after sfence.vma: REGION back to DATA.
  li t0, ((DATA >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 0(s0)
  sfence.vma s2, zero
  li a0, 4
  lw t0, 0(s2)
  li t1, 0x11111111
  bne t0, t1, fail
  # 5: a store through REGION lands in DATA.
  li a0, 5
  li t0, 0x33333333
  sw t0, 4(s2)
  li t1, DATA
  lw t2, 4(t1)
  bne t0, t2, fail
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b

  .align 2
fail:
  slli a0, a0, 16
  li t1, 0x3333
  or a0, a0, t1
  li t0, 0x100000
  sw a0, 0(t0)
1: j 1b
