# Start-up code for the benchmark programs: like the guest crt0, but the program runs in S-mode with
# Sv32 on, so every fetch, load and store goes through the MMU. M-mode programs a PMP rule allowing
# everything, identity-maps RAM and the devices with 4 MiB megapages, sets satp and mrets into S.
.equ SATP_SV32, 0x80000000
.equ PTE_RAM, 0xcf
.equ PTE_DEV, 0xc7

.section .text.init, "ax"
.globl _start
_start:
  la sp, __stack_top
  .option push
  .option norelax
  la gp, __global_pointer$
  .option pop
  la t0, bench_trap
  csrw mtvec, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sw zero, 0(t0)
  addi t0, t0, 4
  j 1b
2:
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  la a0, bench_root
  li t0, 0x80000000
  li t2, 0x88000000
3:
  srli t1, t0, 22
  slli t1, t1, 2
  add t1, t1, a0
  srli t3, t0, 12
  slli t3, t3, 10
  ori t3, t3, PTE_RAM
  sw t3, 0(t1)
  li t3, 0x400000
  add t0, t0, t3
  bltu t0, t2, 3b
  li t3, PTE_DEV
  sw t3, 0(a0)
  li t3, ((0x02000000 >> 12) << 10) | PTE_DEV
  sw t3, (0x02000000 >> 22) * 4(a0)
  li t3, ((0x0c000000 >> 12) << 10) | PTE_DEV
  sw t3, (0x0c000000 >> 22) * 4(a0)
  li t3, ((0x10000000 >> 12) << 10) | PTE_DEV
  sw t3, (0x10000000 >> 22) * 4(a0)
  srli t0, a0, 12
  li t1, SATP_SV32
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x0800
  csrs mstatus, t0
  la t0, s_entry
  csrw mepc, t0
  mret
s_entry:
  li a0, 0
  li a1, 0
  call main
  call exit

.text
.balign 4
bench_trap:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call crt0_report_trap
4:
  j 4b

.bss
.balign 4096
bench_root: .space 4096
