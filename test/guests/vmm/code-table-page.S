# A page that holds kernel code becomes a page table (a level-0 table whose low entries are the
# code): the kernel runs the routine in it, writes a PTE into the page's high half, reads through
# the new mapping, changes the PTE, fences and reads again; then the same with a second such page.
# It prints the values read ("1212") and exits 0 bare and in every mode. In bt the page holds
# translated code, so the first PTE store is a store beside code that bt may then do inline; once
# the read's walk has made the page a table page, the second PTE store must exit like any table
# store, or the shadows keep the old mapping (the second pass runs code translated in the first, so
# no new translation drops the permission).
  .option norvc
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ ROOT, 0x80100000
  .equ DATA, 0x80200000
  .equ DATA2, 0x80201000
  .equ REGION, 0x40000000
  .equ SLOT, 768
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
  # Megapages over the kernel and over the finisher and UART's first 4 MiB.
  li s1, ROOT
  li t0, (0x80000 << 10) | PTE_V | PTE_RWAD | 8
  li t1, ROOT + 4 * (0x80000000 >> 22)
  sw t0, 0(t1)
  li t0, PTE_V | PTE_RWAD
  sw t0, 0(s1)
  li t0, (0x10000 << 10) | PTE_V | PTE_RWAD
  sw t0, 4 * (0x10000000 >> 22)(s1)
  li t0, 1
  li t1, DATA
  sw t0, 0(t1)
  li t0, 2
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

fail:
  li t5, FINISHER
  li t6, 0x3333
  sw t6, 0(t5)
1:
  j 1b

smain:
  li s0, UART
  call g1
  call g2
  # Two passes, the same code: REGION's level-0 table is page table1 (which holds g1), then
  # table2 (which holds g2).
  la s2, table1
  li s7, 2
pass:
  srli t0, s2, 12
  slli t0, t0, 10
  ori t0, t0, PTE_V
  li t1, ROOT + 4 * (REGION >> 22)
  sw t0, 0(t1)
  sfence.vma
  li t1, 4 * SLOT
  add s4, s2, t1
  li s3, REGION + SLOT * 4096
  # Entry SLOT maps REGION + SLOT pages to DATA: a store into a page holding code.
  li a1, ((DATA >> 12) << 10) | PTE_V | PTE_RWAD
  call setpte
  lw s5, 0(s3)
  # Now to DATA2: a store into a table page (no device access or fence before it).
  li a1, ((DATA2 >> 12) << 10) | PTE_V | PTE_RWAD
  call setpte
  sfence.vma
  lw s6, 0(s3)
  addi a0, s5, '0'
  sb a0, 0(s0)
  addi a0, s6, '0'
  sb a0, 0(s0)
  la s2, table2
  addi s7, s7, -1
  bnez s7, pass
  li a0, '\n'
  sb a0, 0(s0)
  li t5, FINISHER
  li t6, 0x5555
  sw t6, 0(t5)
2:
  j 2b

setpte:
  sw a1, 0(s4)
  ret

  .balign 4096
table1:
g1:
  li a0, 1
  ret

  .balign 4096
table2:
g2:
  li a0, 2
  ret
