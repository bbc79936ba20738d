# Timer workload: two S-mode "processes" computing while the timer interrupts often, as an
# operating system's scheduler tick: the M-mode handler (xv6's timervec) moves mtimecmp on and
# raises a supervisor software interrupt; the S-mode handler acknowledges it, saves the running
# process's registers, and switches to the other one. Sv32 is on. Prints both processes' results
# and the tick count.
# bench: compare last line
.include "runtime.inc"

.equ INTERVAL, 1000
.equ TICKS, 3000
.equ MIE_MTIE, 0x80
.equ SIP_SSIP, 0x2

.text
main:
  la a0, root
  li a1, 4096
  call memzero
  la a0, root
  li a3, PTE_RWX_AD
  call pt_identity
  la t0, timervec
  csrw mtvec, t0
  la t0, mscratch_area
  csrw mscratch, t0
  li t0, SIP_SSIP
  csrw mideleg, t0
  la t0, kernelvec
  csrw stvec, t0
  # First deadline, then MTIE and MIE for M; SSIE and SIE for S.
  li t0, CLINT_MTIME
  lw t1, 0(t0)
  li t2, INTERVAL
  add t1, t1, t2
  li t0, CLINT_MTIMECMP
  sw zero, 4(t0)
  sw t1, 0(t0)
  li t0, MIE_MTIE | SIP_SSIP
  csrw mie, t0
  li t0, MSTATUS_MPIE | MSTATUS_SIE
  csrs mstatus, t0
  # Process 1 starts at proc_b when first switched to.
  la t0, ctx_b
  la t1, proc_b
  sw t1, 0(t0)
  la t1, stack_b_top
  sw t1, 8(t0)
  la t0, current
  la t1, ctx_a
  sw t1, 0(t0)
  la a0, root
  call satp_on
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, proc_a
  csrw mepc, t0
  mret

# M-mode timer handler: mtimecmp += INTERVAL, raise SSIP.
.balign 4
timervec:
  csrrw a0, mscratch, a0
  sw a1, 0(a0)
  sw a2, 4(a0)
  li a1, CLINT_MTIMECMP
  lw a2, 0(a1)
  addi a2, a2, INTERVAL
  sw a2, 0(a1)
  li a1, SIP_SSIP
  csrs mip, a1
  lw a1, 0(a0)
  lw a2, 4(a0)
  csrrw a0, mscratch, a0
  mret

# S-mode handler: acknowledge, count, save the current context and switch to the other.
.balign 4
kernelvec:
  csrw sscratch, t0
  la t0, current
  lw t0, 0(t0)
  sw ra, 4(t0)
  sw sp, 8(t0)
  sw s0, 12(t0)
  sw s1, 16(t0)
  sw s2, 20(t0)
  sw a0, 24(t0)
  sw a1, 28(t0)
  sw t1, 32(t0)
  sw t2, 36(t0)
  csrr t1, sscratch
  sw t1, 40(t0)
  csrr t1, sepc
  sw t1, 0(t0)
  li t1, SIP_SSIP
  csrc sip, t1
  la t1, ticks
  lw t2, 0(t1)
  addi t2, t2, 1
  sw t2, 0(t1)
  li t1, TICKS
  bgeu t2, t1, finish
  # Switch.
  la t1, ctx_a
  bne t0, t1, 1f
  la t1, ctx_b
1:
  la t2, current
  sw t1, 0(t2)
  mv t0, t1
  lw t1, 0(t0)
  csrw sepc, t1
  lw ra, 4(t0)
  lw sp, 8(t0)
  lw s0, 12(t0)
  lw s1, 16(t0)
  lw s2, 20(t0)
  lw a0, 24(t0)
  lw a1, 28(t0)
  lw t1, 32(t0)
  lw t2, 36(t0)
  lw t0, 40(t0)
  sret
finish:
  la t0, ctx_a
  lw s1, 16(t0)
  PR "a", s1
  la t0, ctx_b
  lw s1, 16(t0)
  PR "b", s1
  la t0, ticks
  lw s1, 0(t0)
  PR "ticks", s1
  EXIT 0

# Process A: an LCG mixed into s1 forever.
proc_a:
  li s0, 12345
  li s1, 0
1:
  li t1, 1103515245
  mul s0, s0, t1
  addi s0, s0, 1234
  srli t2, s0, 16
  add s1, s1, t2
  j 1b

# Process B: a Fibonacci-like recurrence in s1 forever, with a call.
proc_b:
  li s0, 1
  li s1, 1
1:
  mv a0, s0
  mv a1, s1
  call 2f
  mv s0, s1
  mv s1, a0
  j 1b
2:
  add a0, a0, a1
  xori a0, a0, 0x55
  ret

.data
.balign 4
current: .word 0
ticks: .word 0
ctx_a: .space 48
ctx_b: .space 48
mscratch_area: .space 16

.bss
.balign 4096
root: .space 4096
  .space 1024
stack_b_top:
