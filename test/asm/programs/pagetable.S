# Sv32 setup: identity-map RAM with a megapage, map one 4 KiB page through a second-level table,
# delegate traps, drop to S-mode with satp set.
        .equ PTE_V, 1 << 0
        .equ PTE_R, 1 << 1
        .equ PTE_W, 1 << 2
        .equ PTE_X, 1 << 3
        .equ PTE_A, 1 << 6
        .equ PTE_D, 1 << 7
        .equ SATP_SV32, 1 << 31
        .equ RAM, 0x80000000
        .equ UART, 0x10000000

        .section .text.init, "ax", @progbits
        .globl _start
_start:
        la      a0, root_table
        # megapage for RAM: VPN[1] = 0x200
        li      t0, (RAM >> 12) << 10
        ori     t0, t0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        li      t1, (RAM >> 22) * 4
        add     t1, a0, t1
        sw      t0, 0(t1)
        # second-level table for the UART page
        la      a1, leaf_table
        srli    t0, a1, 12
        slli    t0, t0, 10
        ori     t0, t0, PTE_V
        li      t1, (UART >> 22) * 4
        add     t1, a0, t1
        sw      t0, 0(t1)
        li      t0, (UART >> 12) << 10
        ori     t0, t0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        li      t1, ((UART >> 12) & 0x3ff) * 4
        add     t1, a1, t1
        sw      t0, 0(t1)
        # satp = Sv32 | root PPN
        srli    t0, a0, 12
        li      t1, SATP_SV32
        or      t0, t0, t1
        csrw    satp, t0
        sfence.vma zero, zero
        li      t0, 0xffff
        csrw    medeleg, t0
        csrw    mideleg, t0
        li      t0, 3 << 11
        csrc    mstatus, t0
        li      t0, 1 << 11
        csrs    mstatus, t0
        la      t0, supervisor
        csrw    mepc, t0
        mret

        .text
supervisor:
        li      a0, UART
        li      a1, 'S'
        sb      a1, 0(a0)
        rdtime  a2
        rdcycle a3
        lr.w.aq t0, (a0)
        sc.w.rl t1, t0, (a0)
        amoadd.w a4, a1, (a0)
        fence   rw, rw
        fence.i
        ebreak

        .section .data
        .balign 4096
root_table:
        .zero   4096
leaf_table:
        .fill   1024, 4, 0
