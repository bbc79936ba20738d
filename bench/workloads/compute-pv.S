# compute-pv.S: compute.S for `--mode pv` (kernel-pv.inc instead of kernel.inc; the workload is the same).
# compute.S: a compute loop in the kernel. The S-mode kernel mixes 2,000,000 rounds of xorshift
# into a 64-word table (loads, stores, shifts, branches: no sensitive instruction, no device), then
# prints a checksum. Trap mode runs it natively; bt runs it as translated code.
        .include "kernel-pv.inc"
        .equ    ROUNDS, 2000000

        .text
s_main:
        li      s1, ROUNDS
        li      s2, 0x12345678
        la      s3, table
        li      s4, 0
1:      slli    t0, s2, 13
        xor     s2, s2, t0
        srli    t0, s2, 17
        xor     s2, s2, t0
        slli    t0, s2, 5
        xor     s2, s2, t0
        andi    t1, s2, 63 << 2
        add     t1, t1, s3
        lw      t2, 0(t1)
        add     t2, t2, s2
        sw      t2, 0(t1)
        addi    s4, s4, 1
        bne     s4, s1, 1b
        li      s5, 0
        li      t0, 0
2:      lw      t2, 0(s3)
        xor     s5, s5, t2
        addi    s3, s3, 4
        addi    t0, t0, 1
        li      t1, 64
        bne     t0, t1, 2b
        la      a0, user_exit
        j       s_to_user
s_round:
s_page_fault:
        j       s_bad_trap

# The user program only hands the checksum to exit (the kernel cannot call itself).
user_exit:
        mv      a0, s5
        li      a7, 1
        ecall

        .bss
        .balign 4
table:
        .space  256
        .text
