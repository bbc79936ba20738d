# devio-pv.S: devio.S for `--mode pv` (kernel-pv.inc instead of kernel.inc; the workload is the same).
# devio.S: a device-I/O loop. The S-mode kernel writes 4,000 bytes to the console, each after
# polling the UART's line status (two device accesses per byte, each an exit in a VMM that runs
# the guest on the physical hart), then exits.
        .include "kernel-pv.inc"
        .equ    BYTES, 4000

        .text
s_main:
        li      s1, BYTES
        li      s2, 0
1:      addi    s2, s2, 1
        li      a0, '.'
        andi    t0, s2, 63
        bnez    t0, 2f
        li      a0, '\n'
2:      call    putc
        bne     s2, s1, 1b
        li      a0, '\n'
        call    putc
        la      a0, user_exit
        j       s_to_user
s_round:
s_page_fault:
        j       s_bad_trap

user_exit:
        li      a0, BYTES
        li      a7, 1
        ecall
