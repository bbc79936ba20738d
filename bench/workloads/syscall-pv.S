# syscall-pv.S: syscall.S for `--mode pv` (kernel-pv.inc instead of kernel.inc; the workload is the same).
# syscall.S: a system-call loop. The user program makes 20,000 null system calls (ecall, the
# kernel's handler, sret), then exits with the number it made. Where each technique pays: every
# call is a trap into the guest kernel (reflected by the VMM) and the handler's CSR accesses and
# sret are sensitive instructions.
        .include "kernel-pv.inc"
        .equ    CALLS, 20000

        .text
s_main:
        la      a0, user_main
        j       s_to_user
s_round:
s_page_fault:
        j       s_bad_trap

user_main:
        li      s1, CALLS
        li      s2, 0
1:      li      a7, 0
        ecall
        addi    s2, s2, 1
        bne     s2, s1, 1b
        mv      a0, s2
        li      a7, 1
        ecall
