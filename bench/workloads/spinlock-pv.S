# spinlock-pv.S: spinlock.S for `--mode pv` (kernel-pv.inc instead of kernel.inc; the workload is the same).
# spinlock.S: a kernel's lock discipline, as xv6's spinlocks do it. The user program makes 20,000
# system calls; each runs 100 critical sections in the S-mode kernel, each one push_off (`csrr
# sstatus`, then `csrc sstatus, SIE`), an amoswap acquire, a counter update, an amoswap release and
# pop_off (`csrs sstatus, SIE`, as interrupts were on). Then the user program exits with the count.
# Where each technique pays: three CSR instructions per critical section of about twenty
# instructions, and a trap with its handler's CSR accesses and sret every 100 sections; in trap
# mode each CSR instruction is an exit, so this measures what one exit costs.
        .include "kernel-pv.inc"
        .equ    CALLS, 20000
        .equ    SECTIONS, 100
        .equ    SIE, 2

        .text
s_main:
        li      t0, SIE
        csrs    sstatus, t0
        la      a0, user_main
        j       s_to_user
s_page_fault:
        j       s_bad_trap

# round(): SECTIONS critical sections on `lock`, each adding 1 to `count`.
s_round:
        addi    sp, sp, -16
        sw      s1, 12(sp)
        sw      s2, 8(sp)
        sw      s3, 4(sp)
        li      s1, SECTIONS
        la      s2, lock
        la      s3, count
1:      csrr    t2, sstatus             # push_off
        csrci   sstatus, SIE
        li      t0, 1
2:      amoswap.w.aq t1, t0, (s2)       # acquire
        bnez    t1, 2b
        lw      t0, 0(s3)
        addi    t0, t0, 1
        sw      t0, 0(s3)
        xor     t1, t0, s1
        andi    t1, t1, 7
        add     t0, t0, t1
        amoswap.w.rl zero, zero, (s2)   # release
        andi    t2, t2, SIE             # pop_off
        beqz    t2, 3f
        csrsi   sstatus, SIE
3:      addi    s1, s1, -1
        bnez    s1, 1b
        lw      s3, 4(sp)
        lw      s2, 8(sp)
        lw      s1, 12(sp)
        addi    sp, sp, 16
        ret

user_main:
        li      s1, CALLS
1:      li      a7, 2
        ecall
        addi    s1, s1, -1
        bnez    s1, 1b
        la      t0, count
        lw      a0, 0(t0)
        li      a7, 1
        ecall

        .data
        .balign 4
lock:   .word   0
count:  .word   0
