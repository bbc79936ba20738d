# Atomics in a paged S-mode kernel, for bt mode's inline LR/SC and AMOs (docs/vmm.md): a lock
# discipline on words in the kernel's code page (the page holds translated code, so bt's shadows map
# it read-only) and on a data page, every AMO and LR/SC on both, AMOs and SC that overwrite the
# kernel's own code, loops whose atomics cross pages and fault midway, and faulting atomics:
# misaligned, on an unmapped page, on a read-only page, on a hole with no device, on a device (the
# PLIC). The S-mode trap handler logs scause and stval and skips the instruction. At the end the
# kernel prints the result words and the log in hex and exits 0; bare and every mode print the same.
  .option norvc
  .equ UART, 0x10000000
  .equ FINISHER, 0x100000
  .equ ROOT, 0x80100000
  .equ L0, 0x80101000
  .equ DATA, 0x80200000
  .equ RO, 0x80201000
  .equ RES, 0x80202000
  .equ REGION, 0x40000000
  .equ HOLE, 0x03000000
  .equ PTE_V, 1
  .equ PTE_RWAD, 2 | 4 | 64 | 128
  .equ PTE_RAD, 2 | 64 | 128
  .equ ROUNDS, 300
  .globl _start
_start:
  la t0, mfail
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  # Faults of S-mode go to the S-mode handler: misaligned, access and page faults of loads and stores.
  li t0, (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 13) | (1 << 15)
  csrw medeleg, t0
  la t0, strap
  csrw stvec, t0
  # Tables: megapages over the kernel and over the devices it touches (UART, finisher, the hole,
  # the PLIC); REGION through L0: page 0 -> DATA (RW), page 1 -> RO (read-only), page 2 unmapped,
  # page 3 -> the hole, page 4 -> the PLIC's first page (RW).
  li s1, ROOT
  li t0, (0x80000 << 10) | PTE_V | PTE_RWAD | 8
  li t1, ROOT + 4 * (0x80000000 >> 22)
  sw t0, 0(t1)
  li t0, PTE_V | PTE_RWAD
  sw t0, 0(s1)
  li t0, (0x10000 << 10) | PTE_V | PTE_RWAD
  sw t0, 4 * (0x10000000 >> 22)(s1)
  li t0, ((L0 >> 12) << 10) | PTE_V
  sw t0, 4 * (REGION >> 22)(s1)
  li s0, L0
  li t0, ((DATA >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 0(s0)
  li t0, ((RO >> 12) << 10) | PTE_V | PTE_RAD
  sw t0, 4(s0)
  li t0, ((HOLE >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 12(s0)
  li t0, ((0x0c000000 >> 12) << 10) | PTE_V | PTE_RWAD
  sw t0, 16(s0)
  li t0, 0x5a5a0001
  li t1, RO
  sw t0, 4(t1)
  li t0, 0x80000000 | (ROOT >> 12)
  csrw satp, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, smain
  csrw mepc, t0
  mret

# Any trap in M-mode: exit 0x3333.
mfail:
  li t5, FINISHER
  li t6, 0x3333
  sw t6, 0(t5)
1:
  j 1b

# The S-mode handler: logs scause and stval at s10 and skips the (4-byte) instruction.
strap:
  csrr t5, scause
  sw t5, 0(s10)
  csrr t5, stval
  sw t5, 4(s10)
  addi s10, s10, 8
  csrr t5, sepc
  addi t5, t5, 4
  csrw sepc, t5
  sret

smain:
  li s10, RES + 1024
  li s11, RES
  # 1: a lock on `lock` (this page: translated code) guarding `count`, as xv6's spinlocks do.
  li s1, ROUNDS
  la s2, lock
  la s3, count
1:
  csrr t2, sstatus
  csrci sstatus, 2
  li t0, 1
2:
  amoswap.w.aq t1, t0, (s2)
  bnez t1, 2b
  lw t0, 0(s3)
  addi t0, t0, 1
  sw t0, 0(s3)
  amoswap.w.rl zero, zero, (s2)
  andi t2, t2, 2
  beqz t2, 3f
  csrsi sstatus, 2
3:
  addi s1, s1, -1
  bnez s1, 1b
  # 2: every AMO on a word of this page and on DATA; LR/SC increments on both.
  la a0, words
  call amo_all
  li a0, DATA
  call amo_all
  la a0, words
  call lrsc_add
  li a0, DATA
  call lrsc_add
  # 3: an AMO, then an LR/SC, that rewrite f's first instruction (li a0, 1 -> 2 -> 3).
  call f
  sw a0, 0(s11)
  la t0, f
  li t1, 0x00200513
  amoswap.w t2, t1, (t0)
  sw t2, 4(s11)
  call f
  sw a0, 8(s11)
  lr.w t2, (t0)
  li t1, 0x00300513
  sc.w t3, t1, (t0)
  sw t3, 12(s11)
  call f
  sw a0, 16(s11)
  # An SC whose reservation is elsewhere fails without a store.
  lr.w t2, (s2)
  li t1, 0x00400513
  sc.w t3, t1, (t0)
  sw t3, 20(s11)
  call f
  sw a0, 24(s11)
  addi s11, s11, 28
  # 4: a loop of AMOs over 8 pages of DATA, a new page every 8 passes (shadow fills midway).
  li t0, DATA + 0x1000 * 3
  li t1, 64
  li t2, 3
4:
  amoadd.w zero, t2, (t0)
  addi t0, t0, 512
  addi t1, t1, -1
  bnez t1, 4b
  li t0, DATA + 0x1000 * 3 + 0x1000 * 7
  lw t1, 0(t0)
  sw t1, 0(s11)
  addi s11, s11, 4
  # 5: a loop of AMOs over word 1 of REGION's pages 0 to 4: RW, read-only, unmapped, hole, the
  # PLIC (source 1's priority).
  li t0, REGION + 4
  li t1, 5
  li t2, 7
5:
  amoor.w t3, t2, (t0)
  li t4, 0x1000
  add t0, t0, t4
  addi t1, t1, -1
  bnez t1, 5b
  # 6: faulting atomics, one by one.
  li a1, DATA + 2
  li a2, REGION + 0x2000
  li a3, REGION + 0x1004
  li a4, REGION + 0x3004
  li a5, REGION + 0x4004
  li t2, 9
  amoadd.w t3, t2, (a1)
  lr.w t3, (a1)
  sc.w t3, t2, (a1)
  amoswap.w t3, t2, (a2)
  lr.w t3, (a2)
  sc.w t3, t2, (a2)
  sw t3, 0(s11)
  lr.w t3, (a3)
  sw t3, 4(s11)
  sc.w t3, t2, (a3)
  sw t3, 8(s11)
  amomax.w t3, t2, (a3)
  lr.w t3, (a4)
  amoxor.w t3, t2, (a4)
  lr.w t3, (a5)
  sw t3, 12(s11)
  sc.w t3, t2, (a5)
  sw t3, 16(s11)
  amoadd.w t3, t2, (a5)
  sw t3, 20(s11)
  lw t3, 0(a5)
  sw t3, 24(s11)
  addi s11, s11, 28
  # Print the results, this page's words, DATA's first words, then the log; exit 0.
  la s2, lock
  li s3, 12
  call dump
  li s2, DATA
  li s3, 10
  call dump
  li s2, RES
  sub s3, s11, s2
  srli s3, s3, 2
  call dump
  li s2, RES + 1024
  sub s3, s10, s2
  srli s3, s3, 2
  call dump
  li t5, FINISHER
  li t6, 0x5555
  sw t6, 0(t5)
6:
  j 6b

# amo_all(a0): every AMO on the words at a0 (values chosen so each min/max takes either side).
amo_all:
  li t0, -5
  li t1, 7
  amoswap.w t2, t0, (a0)
  amoadd.w t2, t1, (a0)
  addi a1, a0, 4
  amoxor.w t2, t1, (a1)
  amoand.w t2, t0, (a1)
  addi a1, a0, 8
  amoor.w t2, t1, (a1)
  amomin.w t2, t0, (a1)
  addi a1, a0, 12
  amomax.w t2, t1, (a1)
  amominu.w t2, t0, (a1)
  addi a1, a0, 16
  amomaxu.w t2, t1, (a1)
  addi a1, a0, 20
  amomin.w t2, t1, (a1)
  addi a1, a0, 24
  amomax.w t2, t0, (a1)
  addi a1, a0, 28
  amominu.w t2, t1, (a1)
  addi a1, a0, 32
  amomaxu.w t2, t0, (a1)
  amoadd.w a0, t2, (a0)
  ret

# lrsc_add(a0): adds 1 to the word at a0 100 times by LR/SC.
lrsc_add:
  li t1, 100
1:
  lr.w t0, (a0)
  addi t0, t0, 1
  sc.w t2, t0, (a0)
  bnez t2, 1b
  addi t1, t1, -1
  bnez t1, 1b
  ret

# putc(t3): writes t3 to the UART once its transmitter is empty (LSR.THRE).
putc:
  lbu t6, 5(t4)
  andi t6, t6, 0x20
  beqz t6, putc
  sb t3, 0(t4)
  ret

# dump(s2, s3): prints s3 words from s2 in hex, one a line.
dump:
  mv s4, ra
  li t4, UART
1:
  beqz s3, 3f
  lw t0, 0(s2)
  li t1, 8
2:
  srli t2, t0, 28
  slli t0, t0, 4
  addi t3, t2, '0'
  li t6, 10
  blt t2, t6, 4f
  addi t3, t2, 'a' - 10
4:
  call putc
  addi t1, t1, -1
  bnez t1, 2b
  li t3, '\n'
  call putc
  addi s2, s2, 4
  addi s3, s3, -1
  j 1b
3:
  mv ra, s4
  ret

  .balign 4
f:
  li a0, 1
  ret

  .balign 4
lock: .word 0
count: .word 0
words: .word 0x11, 0x22, -3, 0x44, 0x55, 0x66, -7, 0x88, 0x99, 0xaa
