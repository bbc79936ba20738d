# M-mode trap handler: saves all registers, dispatches on mcause, handles ecall and the timer.
        .equ CLINT_MTIMECMP, 0x02004000
        .equ CLINT_MTIME, 0x0200bff8
        .equ FRAME, 32*4

        .macro SAVE reg, slot
        sw      \reg, (\slot*4)(sp)
        .endm
        .macro RESTORE reg, slot
        lw      \reg, (\slot*4)(sp)
        .endm

        .text
        .globl _start
_start:
        la      t0, trap_vector
        csrw    mtvec, t0
        la      sp, stack_top
        csrw    mscratch, sp
        li      t0, (1 << 7)            # MTIE
        csrs    mie, t0
        csrsi   mstatus, 8              # MIE
        ecall
        wfi
        j       _start

        .p2align 2
trap_vector:
        csrrw   sp, mscratch, sp
        addi    sp, sp, -FRAME
        .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        SAVE    x\n, \n
        .endr
        csrr    a0, mcause
        csrr    a1, mepc
        csrr    a2, mtval
        bltz    a0, interrupt
        li      t0, 11                  # environment call from M-mode
        beq     a0, t0, on_ecall
        li      t0, 8
        beq     a0, t0, on_ecall
        j       fatal
on_ecall:
        addi    a1, a1, 4
        csrw    mepc, a1
        j       trap_return
interrupt:
        slli    a0, a0, 1
        srli    a0, a0, 1
        li      t0, 7
        bne     a0, t0, fatal
        li      t0, CLINT_MTIME
        lw      t1, 0(t0)
        lw      t2, 4(t0)
        li      t3, 100000
        add     t3, t1, t3
        sltu    t1, t3, t1
        add     t2, t2, t1
        li      t0, CLINT_MTIMECMP
        li      t4, -1
        sw      t4, 4(t0)
        sw      t3, 0(t0)
        sw      t2, 4(t0)
trap_return:
        .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        RESTORE x\n, \n
        .endr
        addi    sp, sp, FRAME
        csrrw   sp, mscratch, sp
        mret
fatal:
        li      t0, 0x100000
        li      t1, 0x3333
        sw      t1, 0(t0)
        j       fatal

        .bss
        .balign 16
        .skip   2048
stack_top:
