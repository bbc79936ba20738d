# An S-mode kernel that uses only SBI, linked at 0x80400000 where QEMU puts the kernel behind a
# firmware, as a Linux kernel behaves under OpenSBI: it reads a0 = hartid and a1 = DTB, asks the
# SBI base extension for its version and extensions, prints through the legacy console putchar and
# DBCN (a physical address), turns on Sv32 with its own page table (the kernel's 4 MiB identity
# mapped and aliased at 0xC0000000) and runs on from the alias, takes a timer interrupt that the
# firmware hands it as STIP after SBI set_timer, and shuts the machine down through SRST.
        .equ    KERNEL_PA, 0x80400000
        .equ    KERNEL_VA, 0xC0000000
        .equ    VA_OFFSET, KERNEL_VA - KERNEL_PA
        .equ    EID_BASE, 0x10
        .equ    EID_TIME, 0x54494D45
        .equ    EID_DBCN, 0x4442434E
        .equ    EID_SRST, 0x53525354
        .equ    PTE_LEAF, 0xCF          # V R W X A D
        .equ    SIE_STIE, 0x20
        .equ    SSTATUS_SIE, 0x2
        .equ    S_DBCN_LEN, 27          # length of s_dbcn

        .text
        .globl  _start
_start:
        la      sp, stack_top
        mv      s0, a0
        mv      s1, a1
        la      a0, s_hello
        call    puts
        mv      a0, s0
        call    puthex
        la      a0, s_dtb
        call    puts
        lw      a0, 0(s1)
        call    puthex
        li      a0, '\n'
        call    putc
        # SBI base: spec version, then which extensions are there
        li      a7, EID_BASE
        li      a6, 0
        ecall
        mv      s2, a1
        la      a0, s_version
        call    puts
        mv      a0, s2
        call    puthex
        li      a0, '\n'
        call    putc
        la      s3, probes
1:      lw      s4, 0(s3)
        beqz    s4, 2f
        li      a7, EID_BASE
        li      a6, 3
        mv      a0, s4
        ecall
        mv      s5, a1
        la      a0, s_probe
        call    puts
        mv      a0, s4
        call    puthex
        li      a0, ' '
        call    putc
        mv      a0, s5
        call    puthex
        li      a0, '\n'
        call    putc
        addi    s3, s3, 4
        j       1b
2:      # An extension that is not there answers SBI_ERR_NOT_SUPPORTED (-2).
        li      a7, 0x0A000000
        li      a6, 0
        ecall
        mv      s5, a0
        la      a0, s_missing
        call    puts
        mv      a0, s5
        call    puthex
        li      a0, '\n'
        call    putc

        # Sv32: the kernel's megapage at its physical address and at KERNEL_VA
        la      t0, root
        li      t1, (KERNEL_PA >> 12) << 10 | PTE_LEAF
        li      t2, (KERNEL_PA >> 22) * 4
        add     t2, t0, t2
        sw      t1, 0(t2)
        li      t2, (KERNEL_VA >> 22) * 4
        add     t2, t0, t2
        sw      t1, 0(t2)
        srli    t0, t0, 12
        li      t1, 1 << 31
        or      t0, t0, t1
        csrw    satp, t0
        sfence.vma
        la      t0, high
        li      t1, VA_OFFSET
        add     t0, t0, t1
        jr      t0

high:   # from here on the pc, the stack and every address are in the 0xC0000000 alias
        li      t1, VA_OFFSET
        add     sp, sp, t1
        la      a0, s_paged
        call    puts
        auipc   a0, 0
        call    puthex
        li      a0, '\n'
        call    putc
        # DBCN takes a physical address
        li      a7, EID_DBCN
        li      a6, 0
        li      a0, S_DBCN_LEN
        la      a1, s_dbcn
        li      t1, VA_OFFSET
        sub     a1, a1, t1
        li      a2, 0
        ecall
        li      a7, EID_DBCN
        li      a6, 2
        li      a0, '\n'
        ecall

        # A timer interrupt through SBI set_timer: the firmware turns its M timer interrupt into STIP.
        la      t0, s_trap
        csrw    stvec, t0
        li      t0, SIE_STIE
        csrs    sie, t0
        rdtime  a0
        rdtimeh a1
        addi    a0, a0, 1000
        sltiu   t0, a0, 1000
        add     a1, a1, t0
        li      a7, EID_TIME
        li      a6, 0
        ecall
        # Wait with SIE clear, so the interrupt cannot come between the test of ticks and the wfi
        # (taken there, it would leave the wfi sleeping for good); wfi wakes on the pending STIP
        # all the same, and setting SIE takes it.
3:      la      t0, ticks
        lw      t0, 0(t0)
        bnez    t0, 4f
        wfi
        csrsi   sstatus, SSTATUS_SIE
        csrci   sstatus, SSTATUS_SIE
        j       3b
4:
        la      a0, s_tick
        call    puts
        csrr    a0, scause
        call    puthex
        li      a0, '\n'
        call    putc
        la      a0, s_bye
        call    puts
        li      a7, EID_SRST
        li      a6, 0
        li      a0, 0                   # shutdown
        li      a1, 0
        ecall
5:      j       5b

        .balign 4
s_trap: # the S timer interrupt: count it, and push the timer out (set_timer(-1) clears STIP)
        addi    sp, sp, -16
        sw      a0, 0(sp)
        sw      a1, 4(sp)
        sw      a6, 8(sp)
        sw      a7, 12(sp)
        la      a0, ticks
        li      a1, 1
        sw      a1, 0(a0)
        li      a7, EID_TIME
        li      a6, 0
        li      a0, -1
        li      a1, -1
        ecall
        lw      a0, 0(sp)
        lw      a1, 4(sp)
        lw      a6, 8(sp)
        lw      a7, 12(sp)
        addi    sp, sp, 16
        sret

putc:   # legacy console putchar (EID 1)
        li      a7, 1
        ecall
        ret

puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s6, 0(sp)
        mv      s6, a0
6:      lbu     a0, 0(s6)
        beqz    a0, 7f
        call    putc
        addi    s6, s6, 1
        j       6b
7:      lw      s6, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

puthex:
        addi    sp, sp, -12
        sw      ra, 8(sp)
        sw      s6, 4(sp)
        sw      s7, 0(sp)
        mv      s6, a0
        li      s7, 28
8:      srl     a0, s6, s7
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 9f
        addi    a0, a0, 'a' - 10 - '0'
9:      addi    a0, a0, '0'
        call    putc
        addi    s7, s7, -4
        bgez    s7, 8b
        lw      s7, 0(sp)
        lw      s6, 4(sp)
        lw      ra, 8(sp)
        addi    sp, sp, 12
        ret

        .section .rodata
        .balign 4
probes: .word   EID_BASE, EID_TIME, EID_DBCN, EID_SRST, 0x48534D, 0
s_dbcn:         .ascii  "payload: DBCN console write"
s_hello:        .asciz  "payload: S-mode, hart "
s_dtb:          .asciz  ", DTB magic "
s_version:      .asciz  "payload: SBI spec version "
s_probe:        .asciz  "payload: probe "
s_missing:      .asciz  "payload: unknown extension answers "
s_paged:        .asciz  "payload: Sv32 on, running at "
s_tick:         .asciz  "payload: timer interrupt, scause "
s_bye:          .asciz  "payload: shutdown through SRST\n"
        .data
        .balign 4
ticks:  .word   0
        .bss
        .balign 4096
root:   .zero   4096
stack:  .zero   2048
stack_top:
