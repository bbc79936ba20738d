# traps-pv.S: traps.S made para-virtual, for `--mode pv`: the VMM's SBI boots the kernel in S-mode
# (no M-mode code: the SBI delegates ecalls from U-mode as the boot did), and the kernel enters its
# user program with the return_to_user hypercall instead of sret. The trap handler is unchanged: its
# CSR accesses and its sret back to the user program trap, and the VMM emulates them.
#
# traps.S: M-mode boot, an S-mode kernel and a U-mode program that makes system calls.
#
# The machine starts in M-mode at 0x80000000 (as qemu-system-riscv32 -machine virt -bios none).
# The boot code opens all memory to S and U through PMP entry 0, delegates ecalls from U-mode to
# S-mode, and drops to the S-mode kernel with mret. The kernel installs its trap handler and enters
# the user program with sret. The user program asks the kernel for everything through ecall:
#
#   a7 = 1  write(a0 = buffer, a1 = length)   prints the bytes; returns the length
#   a7 = 2  count()                           returns how many system calls were made so far
#   a7 = 3  exit(a0 = status)                 ends the program; the kernel powers the machine off
#   other   returns -1 (no such system call)

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20             # LSR: the transmitter can take a byte
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333

        .equ SYS_WRITE, 1
        .equ SYS_COUNT, 2
        .equ SYS_EXIT, 3

        .equ CAUSE_ECALL_U, 8
        .equ SSTATUS_SPP, 1 << 8        # sstatus.SPP = 0: sret goes to U-mode

        .equ PV, 0x08564D4C             # vmlab's PV extension of the SBI
        .equ PV_RETURN_TO_USER, 7

        .text
        .globl _start
# ---------------------------------------------------------------------------------- S-mode kernel
_start:
s_kernel:
        la      sp, s_stack_top
        la      a0, msg_s_start
        call    puts
        la      t0, s_trap
        csrw    stvec, t0
        la      t0, s_trap_stack_top    # sscratch: the stack the trap handler switches to
        csrw    sscratch, t0
        la      a0, msg_s_sret
        call    puts
        la      a0, user_main           # into the user program, through the VMM
        li      a6, PV_RETURN_TO_USER
        li      a7, PV
        ecall

# The S-mode trap handler. It swaps sp with sscratch (the kernel's trap stack), saves the
# registers it uses, handles the trap and returns to the user program with sret.
        .align  2
s_trap:
        csrrw   sp, sscratch, sp
        addi    sp, sp, -48
        sw      ra, 0(sp)
        sw      t0, 4(sp)
        sw      t1, 8(sp)
        sw      t2, 12(sp)
        sw      s0, 16(sp)
        sw      s1, 20(sp)
        sw      a1, 24(sp)
        sw      a2, 28(sp)
        sw      a7, 32(sp)
        sw      a0, 36(sp)

        csrr    t0, scause
        li      t1, CAUSE_ECALL_U
        bne     t0, t1, s_bad_trap

        la      t0, syscalls            # count this call
        lw      t1, 0(t0)
        addi    t1, t1, 1
        sw      t1, 0(t0)

        mv      s0, a0                  # the user's arguments
        mv      s1, a1
        la      a0, msg_s_ecall         # "[S] ecall #k: a7 = n "
        call    puts
        la      t0, syscalls
        lw      a0, 0(t0)
        call    putdec
        la      a0, msg_s_a7
        call    puts
        lw      a0, 32(sp)
        call    putdec

        lw      t0, 32(sp)
        li      t1, SYS_WRITE
        beq     t0, t1, sys_write
        li      t1, SYS_COUNT
        beq     t0, t1, sys_count
        li      t1, SYS_EXIT
        beq     t0, t1, sys_exit

        la      a0, msg_s_unknown       # no such call: return -1
        call    puts
        li      a0, -1
        j       s_return

sys_write:
        la      a0, msg_s_write
        call    puts
        mv      a0, s1
        call    putdec
        la      a0, msg_s_bytes
        call    puts
        mv      t2, s0                  # with paging off, the user's pointer is a physical address
        add     s0, s0, s1
1:      beq     t2, s0, 2f
        lbu     a0, 0(t2)
        call    putc
        addi    t2, t2, 1
        j       1b
2:      mv      a0, s1
        j       s_return

sys_count:
        la      a0, msg_s_count
        call    puts
        la      t0, syscalls
        lw      a0, 0(t0)
        call    putdec
        call    newline
        la      t0, syscalls
        lw      a0, 0(t0)
        j       s_return

sys_exit:
        la      a0, msg_s_exit
        call    puts
        mv      a0, s0
        call    putdec
        call    newline
        la      a0, msg_s_total
        call    puts
        la      t0, syscalls
        lw      a0, 0(t0)
        call    putdec
        call    newline
        li      t0, FINISHER
        li      t1, FINISH_PASS
        sw      t1, 0(t0)
1:      j       1b

# Return to the user program: a0 holds the result, sepc moves past the ecall.
s_return:
        sw      a0, 36(sp)
        csrr    t0, sepc
        addi    t0, t0, 4
        csrw    sepc, t0
        lw      ra, 0(sp)
        lw      t0, 4(sp)
        lw      t1, 8(sp)
        lw      t2, 12(sp)
        lw      s0, 16(sp)
        lw      s1, 20(sp)
        lw      a1, 24(sp)
        lw      a2, 28(sp)
        lw      a7, 32(sp)
        lw      a0, 36(sp)
        addi    sp, sp, 48
        csrrw   sp, sscratch, sp
        sret

# A trap the kernel does not handle: report scause and stop with failure code 2.
s_bad_trap:
        la      a0, msg_s_bad
        call    puts
        csrr    a0, scause
        call    puthex
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
# The user program runs in U-mode: it cannot touch CSRs, and it reaches the kernel only by ecall.
user_main:
        li      s0, 1                   # three greetings, each one write() call
1:      la      a0, msg_u_hello
        la      a1, msg_u_hello_end
        sub     a1, a1, a0
        li      a7, SYS_WRITE
        ecall
        addi    s0, s0, 1
        li      t0, 4
        bne     s0, t0, 1b

        li      a7, SYS_COUNT           # count(): how many calls so far?
        ecall
        addi    a0, a0, '0'             # one digit is enough here
        la      t0, msg_u_count_digit
        sb      a0, 0(t0)
        la      a0, msg_u_count
        la      a1, msg_u_count_end
        sub     a1, a1, a0
        li      a7, SYS_WRITE
        ecall

        li      a7, 42                  # a call the kernel does not have
        ecall
        bgez    a0, 2f
        la      a0, msg_u_refused
        la      a1, msg_u_refused_end
        sub     a1, a1, a0
        li      a7, SYS_WRITE
        ecall

2:      li      a0, 0                   # exit(0)
        li      a7, SYS_EXIT
        ecall
3:      j       3b                      # exit does not return

        .section .rodata
msg_s_start:    .asciz "[S] kernel started\n"
msg_s_sret:     .asciz "[S] sret to the user program\n"
msg_s_ecall:    .asciz "[S] ecall #"
msg_s_a7:       .asciz ": a7 = "
msg_s_write:    .asciz " write, "
msg_s_bytes:    .asciz " bytes: "
msg_s_count:    .asciz " count -> "
msg_s_unknown:  .asciz " unknown -> -1\n"
msg_s_exit:     .asciz " exit, status "
msg_s_total:    .asciz "[S] user program done after system calls: "
msg_s_bad:      .asciz "[S] unexpected trap, scause = "

msg_u_hello:    .ascii "[U] hello from user mode\n"
msg_u_hello_end:
msg_u_refused:  .ascii "[U] call 42 refused\n"
msg_u_refused_end:

        .data
msg_u_count:    .ascii "[U] count() says "
msg_u_count_digit:
                .ascii "?\n"
msg_u_count_end:
        .align  2
syscalls:       .word 0

        .bss
        .align  4
s_stack:        .space 1024
s_stack_top:
s_trap_stack:   .space 1024
s_trap_stack_top:
