# forkwait-pv.S: forkwait.S for `--mode pv`. The kernel (kernel-pv.inc, at 0x80400000) maps its own
# table pages read-only, installs its root with set_root instead of csrw satp, maps a faulting page
# with a one-entry mmu_update instead of a store, and tears the address space down with one
# mmu_update batch of 16 entries and a flush instead of 16 stores and sfence.vma.
#
# forkwait.S: an address-space loop, like the forkwait test of the VMware literature. The S-mode
# kernel runs with Sv32 paging. 300 times it builds an empty address space for its user program
# (16 pages at 0x40000000, unmapped), enters it, maps each page on the page fault the program's
# first store to it takes, and tears the space down again when the program says it is done
# (round()): page-table writes, page faults and sfence.vma, where shadow paging pays most.
        .include "kernel-pv.inc"
        .equ    ROUNDS, 300
        .equ    PAGES, 16
        .equ    UVA, 0x40000000
        .equ    PTE_V, 1
        .equ    PTE_R, 2
        .equ    PTE_W, 4
        .equ    PTE_X, 8
        .equ    PTE_U, 16
        .equ    PTE_A, 64
        .equ    PTE_D, 128

        .text
s_main:
        # Kernel: 0x80400000..0x807fffff through kernel_l0 (S-only, RWX), the user code page with U,
        # the table pages read-only.
        la      t0, kernel_l0
        li      t1, 0
        li      t2, 1024
        li      t3, 0x80400
1:      add     t4, t3, t1
        slli    t4, t4, 10
        ori     t4, t4, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
        sw      t4, 0(t0)
        addi    t0, t0, 4
        addi    t1, t1, 1
        bne     t1, t2, 1b
        la      t0, user_main
        srli    t1, t0, 12
        andi    t1, t1, 1023
        slli    t1, t1, 2
        la      t2, kernel_l0
        add     t2, t2, t1
        lw      t3, 0(t2)
        ori     t3, t3, PTE_U
        li      t4, PTE_W
        not     t4, t4
        and     t3, t3, t4
        sw      t3, 0(t2)
        la      a0, root
        call    map_ro
        la      a0, kernel_l0
        call    map_ro
        la      a0, user_l0
        call    map_ro
        # Root: kernel_l0 at 0x80000000, megapages for the finisher (0x0) and the UART (0x10000000),
        # user_l0 at 0x40000000.
        la      s3, root
        la      t0, kernel_l0
        srli    t0, t0, 12
        slli    t0, t0, 10
        ori     t0, t0, PTE_V
        li      t1, (0x80400000 >> 22) * 4
        add     t1, t1, s3
        sw      t0, 0(t1)
        li      t0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        sw      t0, 0(s3)
        li      t0, ((0x10000000 >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
        sw      t0, (0x10000000 >> 22) * 4(s3)
        la      t0, user_l0
        srli    t0, t0, 12
        slli    t0, t0, 10
        ori     t0, t0, PTE_V
        sw      t0, (UVA >> 22) * 4(s3)
        srli    a0, s3, 12
        li      t1, 1 << 31
        or      a0, a0, t1
        li      a6, PV_SET_ROOT
        li      a7, PV
        ecall
        bnez    a0, s_bad_trap
        la      t0, rounds
        sw      zero, 0(t0)
        la      a0, user_main
        j       s_to_user

# round(): the user program is done with its address space; tear it down (every PTE cleared, then
# one sfence.vma) and count the round. After ROUNDS it exits through the user program.
s_round:
        la      t0, saved
        sw      a6, 0(t0)
        sw      a7, 4(t0)
        la      t0, user_l0
        la      t2, batch
        li      t1, 0
1:      sw      t0, 0(t2)
        sw      zero, 4(t2)
        addi    t0, t0, 4
        addi    t2, t2, 8
        addi    t1, t1, 1
        li      a0, PAGES
        bne     t1, a0, 1b
        la      a0, batch
        li      a1, PAGES
        li      a6, PV_MMU_UPDATE
        li      a7, PV
        ecall
        bnez    a0, s_bad_trap
        li      a0, -1
        li      a1, 0
        li      a6, PV_FLUSH
        li      a7, PV
        ecall
        la      t0, saved
        lw      a6, 0(t0)
        lw      a7, 4(t0)
        la      t0, rounds
        lw      t1, 0(t0)
        addi    t1, t1, 1
        sw      t1, 0(t0)
        li      a0, ROUNDS
        sub     a0, a0, t1
        sw      a0, 16(sp)             # round() returns the rounds left in a0
        ret

# s_page_fault(a0 = stval): maps the user page at stval to its frame in upool.
s_page_fault:
        li      t0, UVA
        sub     t1, a0, t0
        srli    t1, t1, 12
        li      t2, PAGES
        bgeu    t1, t2, s_bad_trap
        la      t0, upool
        srli    t0, t0, 12
        add     t0, t0, t1
        slli    t0, t0, 10
        ori     t0, t0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
        la      t2, user_l0
        slli    t1, t1, 2
        add     t2, t2, t1
        la      t1, batch
        sw      t2, 0(t1)
        sw      t0, 4(t1)
        la      t0, saved
        sw      a6, 0(t0)
        sw      a7, 4(t0)
        la      a0, batch
        li      a1, 1
        li      a6, PV_MMU_UPDATE
        li      a7, PV
        ecall
        bnez    a0, s_bad_trap
        la      t0, saved
        lw      a6, 0(t0)
        lw      a7, 4(t0)
        la      t0, faults
        lw      t1, 0(t0)
        addi    t1, t1, 1
        sw      t1, 0(t0)
        ret

# map_ro(a0 = a kernel page): its kernel_l0 entry loses W (a table page must not be writable).
map_ro:
        la      t0, kernel_l0
        li      t1, 0x80400000
        sub     t1, a0, t1
        srli    t1, t1, 12
        slli    t1, t1, 2
        add     t0, t0, t1
        lw      t1, 0(t0)
        andi    t1, t1, ~PTE_W
        sw      t1, 0(t0)
        ret

# The user program: touches every page of its space (the first store to each faults), then asks
# for the next round; exits with the number of rounds it saw when none are left.
        .balign 4096
user_main:
        li      s1, 0
1:      li      t0, UVA
        li      t1, 0
        li      t2, PAGES
2:      sw      t1, 0(t0)
        li      t3, 4096
        add     t0, t0, t3
        addi    t1, t1, 1
        bne     t1, t2, 2b
        addi    s1, s1, 1
        li      a7, 2
        ecall
        bnez    a0, 1b
        mv      a0, s1
        li      a7, 1
        ecall
        .balign 4096

        .bss
        .balign 4096
root:
        .space  4096
kernel_l0:
        .space  4096
user_l0:
        .space  4096
upool:
        .space  4096 * PAGES
        .balign 4
rounds:
        .space  4
faults:
        .space  4
saved:
        .space  8
        .balign 8
batch:
        .space  8 * PAGES
        .text
