# sensitive-pv.S: sensitive.S made para-virtual, for `--mode pv`. The three changes: no M-mode boot
# (the VMM's SBI starts the kernel in S-mode), and the instructions that misbehave without trapping
# in a deprivileged kernel become hypercalls of vmlab's PV extension: setsie -> set_irq, touser ->
# return_to_user, rdpriv -> the kernel simply knows. The privileged instructions that do trap (csrr,
# csrw, sret) stay: the VMM emulates them. The user program is unchanged.
#
# sensitive.S: the Xsensitive instructions, seen from an S-mode kernel and from its user program.
#
#   rdpriv rd     rd = the current privilege (U = 0, S = 1, M = 3)
#   setsie rs1    sstatus.SIE = rs1 & 1
#   touser rs1    privilege = U, pc = rs1
#
# (GNU as spells them .insn i 0x0b, 0, rd, x0, 0 / .insn i 0x0b, 1, x0, rs1, 0 /
# .insn i 0x0b, 2, x0, rs1, 0.) None of them traps in U-mode, so a kernel that a VMM runs
# deprivileged in U-mode (trap-and-emulate) gets wrong answers and the VMM never notices: run this
# bare or in emulate mode (--cpu rv32,xsensitive=on), then in trap mode, and compare.
#
# The user program reaches the kernel by ecall: a7 = 1 puts(a0 = string),
# a7 = 2 putdec(a0 = label, a1 = number), a7 = 3 puthex(a0 = label, a1 = number),
# a7 = 4 exit(a0 = farewell string, a1 = status).

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20             # LSR: the transmitter can take a byte
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333

        .equ SYS_PUTS, 1
        .equ SYS_PUTDEC, 2
        .equ SYS_PUTHEX, 3
        .equ SYS_EXIT, 4

        .equ CAUSE_ILLEGAL, 2
        .equ CAUSE_ECALL_U, 8
        .equ CAUSE_ECALL_S, 9
        .equ SSTATUS_SIE, 1 << 1
        .equ SSTATUS_SPP, 1 << 8

        .equ PV, 0x08564D4C             # vmlab's PV extension of the SBI
        .equ PV_SET_IRQ, 6
        .equ PV_RETURN_TO_USER, 7

        .text
        .globl _start
# ---------------------------------------------------------------------------------- S-mode kernel
_start:
s_kernel:
        la      sp, s_stack_top
        la      t0, s_trap
        csrw    stvec, t0
        la      t0, s_trap_stack_top
        csrw    sscratch, t0
        la      a0, msg_s_start
        call    puts

        li      s0, 1                   # a pv kernel knows it is the guest's S-mode (rdpriv says 0)
        la      a0, msg_s_rdpriv
        mv      a1, s0
        call    put_priv

        li      a0, 1                   # interrupts on, told to the VMM ...
        li      a6, PV_SET_IRQ
        li      a7, PV
        ecall
        la      a0, msg_s_setsie1
        call    put_sie
        li      a0, 0                   # ... and off again
        li      a6, PV_SET_IRQ
        li      a7, PV
        ecall
        la      a0, msg_s_setsie0
        call    put_sie

        la      a0, msg_s_touser
        call    puts
        la      sp, u_stack_top
        la      a0, user_main
        li      a6, PV_RETURN_TO_USER   # to U-mode, through the VMM
        li      a7, PV
        ecall
1:      j       1b

# put_priv(a0 = label, a1 = privilege): prints "label N (X-mode)".
put_priv:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      a1, 0(sp)
        call    puts
        lw      a0, 0(sp)
        call    putdec
        lw      t0, 0(sp)
        la      a0, msg_mode_u
        beqz    t0, 1f
        la      a0, msg_mode_s
        li      t1, 1
        beq     t0, t1, 1f
        la      a0, msg_mode_m
1:      call    puts
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

# put_sie(a0 = label): prints the label and sstatus.SIE as read back from sstatus.
put_sie:
        addi    sp, sp, -4
        sw      ra, 0(sp)
        call    puts
        csrr    a0, sstatus
        srli    a0, a0, 1
        andi    a0, a0, 1
        call    putdec
        call    newline
        lw      ra, 0(sp)
        addi    sp, sp, 4
        ret

# The S-mode trap handler: system calls, and illegal instructions of the user program (the
# instruction is skipped and the program sees a0 = 1).
        .align  2
s_trap:
        csrrw   sp, sscratch, sp
        addi    sp, sp, -32
        sw      ra, 0(sp)
        sw      t0, 4(sp)
        sw      t1, 8(sp)
        sw      t2, 12(sp)
        sw      s1, 16(sp)
        sw      a0, 20(sp)
        sw      a1, 24(sp)

        csrr    t0, scause
        li      t1, CAUSE_ILLEGAL
        beq     t0, t1, s_illegal
        li      t1, CAUSE_ECALL_U
        beq     t0, t1, s_syscall
        li      t1, CAUSE_ECALL_S
        bne     t0, t1, s_bad_trap
        la      t0, ecall_s_seen        # an ecall from S-mode: say so, once, then serve it
        lw      t1, 0(t0)
        bnez    t1, s_syscall
        li      t1, 1
        sw      t1, 0(t0)
        la      a0, msg_s_ecall_s
        call    puts

s_syscall:                              # with paging off, the user's pointers are physical addresses
        lw      a0, 20(sp)
        call    puts
        li      t1, SYS_PUTS
        beq     a7, t1, s_return
        li      t1, SYS_PUTDEC
        beq     a7, t1, sys_putdec
        li      t1, SYS_PUTHEX
        beq     a7, t1, sys_puthex
        li      t1, SYS_EXIT
        beq     a7, t1, sys_exit
        j       s_bad_trap

sys_putdec:
        lw      a0, 24(sp)
        call    putdec
        call    newline
        j       s_return

sys_puthex:
        lw      a0, 24(sp)
        call    puthex
        call    newline
        j       s_return

sys_exit:
        la      a0, msg_s_exit
        call    puts
        lw      a0, 24(sp)
        call    putdec
        call    newline
        li      t0, FINISHER
        li      t1, FINISH_PASS
        sw      t1, 0(t0)
1:      j       1b

s_illegal:
        csrr    t0, sstatus             # only the user program may execute illegal instructions
        andi    t0, t0, SSTATUS_SPP
        bnez    t0, s_bad_trap
        la      a0, msg_s_illegal
        call    puts
        li      t0, 1
        sw      t0, 20(sp)

# Back to the interrupted program, past the instruction that trapped.
s_return:
        csrr    t0, sepc
        addi    t0, t0, 4
        csrw    sepc, t0
        lw      ra, 0(sp)
        lw      t0, 4(sp)
        lw      t1, 8(sp)
        lw      t2, 12(sp)
        lw      s1, 16(sp)
        lw      a0, 20(sp)
        lw      a1, 24(sp)
        addi    sp, sp, 32
        csrrw   sp, sscratch, sp
        sret

# A trap the kernel does not expect: report scause and stop with failure code 2.
s_bad_trap:
        la      a0, msg_s_bad
        call    puts
        csrr    a0, scause
        call    putdec
        call    newline
        li      t0, FINISHER
        li      t1, (2 << 16) | FINISH_FAIL
        sw      t1, 0(t0)
1:      j       1b

# ---------------------------------------------------------------------------------- kernel library
# putc(a0): waits until the transmitter is free, then sends one byte. Keeps a0 and t2.
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

# puts(a0): sends a NUL-terminated string.
puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s1, 0(sp)
        mv      s1, a0
1:      lbu     a0, 0(s1)
        beqz    a0, 2f
        call    putc
        addi    s1, s1, 1
        j       1b
2:      lw      s1, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

# newline(): sends "\n".
newline:
        li      a0, '\n'
        j       putc

# puthex(a0): sends a0 as 0x followed by eight hex digits.
puthex:
        addi    sp, sp, -12
        sw      ra, 8(sp)
        sw      s1, 4(sp)
        sw      s0, 0(sp)
        mv      s1, a0
        li      a0, '0'
        call    putc
        li      a0, 'x'
        call    putc
        li      s0, 28
1:      srl     a0, s1, s0
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 2f
        addi    a0, a0, 'a' - 10 - '0'
2:      addi    a0, a0, '0'
        call    putc
        addi    s0, s0, -4
        bgez    s0, 1b
        lw      s0, 0(sp)
        lw      s1, 4(sp)
        lw      ra, 8(sp)
        addi    sp, sp, 12
        ret

# putdec(a0): sends a0 as a signed decimal number.
putdec:
        addi    sp, sp, -24
        sw      ra, 20(sp)
        sw      s1, 16(sp)
        mv      s1, a0
        bgez    s1, 1f
        li      a0, '-'
        call    putc
        neg     s1, s1
1:      addi    t2, sp, 15              # digits are built backwards in a buffer on the stack
        sb      zero, 0(t2)
        li      t0, 10
2:      remu    t1, s1, t0
        divu    s1, s1, t0
        addi    t1, t1, '0'
        addi    t2, t2, -1
        sb      t1, 0(t2)
        bnez    s1, 2b
        mv      a0, t2
        call    puts
        lw      s1, 16(sp)
        lw      ra, 20(sp)
        addi    sp, sp, 24
        ret

# ---------------------------------------------------------------------------------- U-mode program
# The user program checks where it runs: rdpriv, then a read of sstatus, which U-mode may not do.
user_main:
        rdpriv  a1
        la      a0, msg_u_rdpriv
        li      a7, SYS_PUTDEC
        ecall

        li      a0, 0                   # the kernel sets a0 = 1 if the next instruction traps
        li      t0, 0
        csrr    t0, sstatus
        beqz    a0, 1f
        la      a0, msg_u_user          # it trapped: really in U-mode
        li      a7, SYS_PUTS
        ecall
        j       2f
1:      la      a0, msg_u_not_user      # it did not trap: show what it read
        mv      a1, t0
        li      a7, SYS_PUTHEX
        ecall

2:      la      a0, msg_u_bye
        li      a1, 0
        li      a7, SYS_EXIT
        ecall
3:      j       3b

        .section .rodata
msg_s_start:    .asciz "[S] kernel started\n"
msg_s_rdpriv:   .asciz "[S] rdpriv = "
msg_mode_u:     .asciz " (U-mode)\n"
msg_mode_s:     .asciz " (S-mode)\n"
msg_mode_m:     .asciz " (M-mode)\n"
msg_s_setsie1:  .asciz "[S] setsie 1, then sstatus.SIE = "
msg_s_setsie0:  .asciz "[S] setsie 0, then sstatus.SIE = "
msg_s_touser:   .asciz "[S] touser to the user program\n"
msg_s_ecall_s:  .asciz "[S] ecall from S-mode (scause 9): the hart never left S-mode\n"
msg_s_illegal:  .asciz "[S] illegal instruction from U-mode (scause 2), skipped\n"
msg_s_exit:     .asciz "[S] user program exited with status "
msg_s_bad:      .asciz "[S] unexpected trap, scause = "
msg_u_rdpriv:   .asciz "[U] rdpriv = "
msg_u_user:     .asciz "[U] csrr sstatus trapped: I run in U-mode\n"
msg_u_not_user: .asciz "[U] csrr sstatus did NOT trap, so I am not in U-mode; it read "
msg_u_bye:      .asciz "[U] exit(0)\n"

        .data
        .align  2
ecall_s_seen:   .word 0

        .bss
        .align  4
s_stack:        .space 1024
s_stack_top:
s_trap_stack:   .space 1024
s_trap_stack_top:
u_stack:        .space 1024
u_stack_top:
