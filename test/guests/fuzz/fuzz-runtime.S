# Runtime for the robustness fuzzer (test/machine/fuzz.test.ts). The test writes parameters at PARAMS
# and random instruction words at FUZZ_CODE into RAM after loading this program. The runtime locks a
# canary page with PMP (no access for any mode), hides itself and PARAMS from S/U and makes the page tables
# read-only for them (implicit walks are S accesses), optionally turns on Sv32 (identity megapages),
# loads x1..x15 from PARAMS and enters the random code in the requested mode. Every trap goes to M, which skips the instruction (or restarts inside the
# code buffer), restores the translation when S code changed satp, and returns.

.equ PARAMS, 0x80100000
.equ P_MODE, 0
.equ P_PAGING, 4
.equ P_TRAPS, 8
.equ P_REGS, 32
.equ FUZZ_CODE, 0x80300000
.equ FUZZ_CODE_SIZE, 0x10000
.equ CANARY, 0x80400000
.equ ROOT, 0x80500000
.equ CLINT_MTIMECMP, 0x02004000
.equ CLINT_MSIP, 0x02000000

.section .text.init, "ax"
.globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  li t0, (CANARY >> 2) | ((4096 / 8) - 1)
  csrw pmpaddr0, t0
  li t0, (0x80000000 >> 2) | ((0x200000 / 8) - 1)
  csrw pmpaddr1, t0
  li t0, (ROOT >> 2) | ((4096 / 8) - 1)
  csrw pmpaddr2, t0
  li t0, -1
  csrw pmpaddr15, t0
  li t0, 0x00191898
  csrw pmpcfg0, t0
  li t0, 0x1f000000
  csrw pmpcfg3, t0
  li t0, ROOT
  li t1, 1024
1:
  sw zero, 0(t0)
  addi t0, t0, 4
  addi t1, t1, -1
  bnez t1, 1b
  li s0, PARAMS
  lw t2, P_MODE(s0)
  li t3, 0xcf
  bnez t2, 3f
  ori t3, t3, 0x10
3:
  li t0, ROOT + (0x200 * 4)
  li t1, (0x80000000 >> 12) << 10
  or t1, t1, t3
  sw t1, 0(t0)
  li t1, (0x80400000 >> 12) << 10
  or t1, t1, t3
  sw t1, 4(t0)
  andi t3, t3, 0x10
  ori t3, t3, 0xc7
  li t0, ROOT
  sw t3, 0(t0)
  li t1, (0x02000000 >> 12) << 10
  or t1, t1, t3
  sw t1, (0x02000000 >> 22) * 4(t0)
  li t1, (0x0c000000 >> 12) << 10
  or t1, t1, t3
  sw t1, (0x0c000000 >> 22) * 4(t0)
  li t1, (0x10000000 >> 12) << 10
  or t1, t1, t3
  sw t1, (0x10000000 >> 22) * 4(t0)
enter:
  li s0, PARAMS
  csrw medeleg, zero
  csrw mideleg, zero
  li t0, 0x1800 | 0x20000
  csrc mstatus, t0
  lw t1, P_MODE(s0)
  slli t1, t1, 11
  csrs mstatus, t1
  csrw satp, zero
  lw t1, P_PAGING(s0)
  beqz t1, 4f
  li t1, 0x80000000 | (ROOT >> 12)
  csrw satp, t1
4:
  sfence.vma
  csrr t1, mepc
  li t2, FUZZ_CODE
  sub t3, t1, t2
  li t4, FUZZ_CODE_SIZE - 4
  bleu t3, t4, 5f
  lw t3, P_TRAPS(s0)
  slli t3, t3, 2
  li t4, FUZZ_CODE_SIZE - 4
  and t3, t3, t4
  add t1, t2, t3
  csrw mepc, t1
5:
  addi sp, s0, P_REGS
  lw x1, 4(sp)
  lw x3, 12(sp)
  lw x4, 16(sp)
  lw x5, 20(sp)
  lw x6, 24(sp)
  lw x7, 28(sp)
  lw x8, 32(sp)
  lw x9, 36(sp)
  lw x10, 40(sp)
  lw x11, 44(sp)
  lw x12, 48(sp)
  lw x13, 52(sp)
  lw x14, 56(sp)
  lw x15, 60(sp)
  lw x2, 8(sp)
  mret

.balign 4
handler:
  li s0, PARAMS
  lw t0, P_TRAPS(s0)
  addi t0, t0, 1
  sw t0, P_TRAPS(s0)
  csrr t0, mcause
  bltz t0, 8f
  csrr t1, mepc
  addi t1, t1, 4
  li t2, FUZZ_CODE
  sub t3, t1, t2
  li t4, FUZZ_CODE_SIZE - 4
  bleu t3, t4, 6f
  lw t3, P_TRAPS(s0)
  slli t3, t3, 2
  and t3, t3, t4
  add t1, t2, t3
6:
  csrw mepc, t1
  li t3, 0
  lw t2, P_PAGING(s0)
  beqz t2, 7f
  li t3, 0x80000000 | (ROOT >> 12)
7:
  csrr t4, satp
  beq t3, t4, 9f
  csrw satp, t3
  sfence.vma
9:
  mret
8:
  csrw mie, zero
  li t1, 0x222
  csrc mip, t1
  li t1, CLINT_MTIMECMP
  li t2, -1
  sw t2, 4(t1)
  sw t2, 0(t1)
  li t1, CLINT_MSIP
  sw zero, 0(t1)
  j enter
