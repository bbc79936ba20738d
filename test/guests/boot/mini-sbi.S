# A minimal SBI firmware of the project's own, started as OpenSBI's fw_dynamic is: QEMU's reset
# vector hands it a0 = hartid, a1 = DTB and a2 = fw_dynamic_info, whose next_addr it enters in
# S-mode (next_mode 1) with a0 = hartid and a1 = DTB, after what OpenSBI does for an S-mode kernel:
# a PMP rule giving S/U all memory, S-mode's own traps and interrupts delegated (mideleg 0x222,
# medeleg 0xb109), the counters readable below M. It serves the SBI calls a small kernel makes:
# base (spec version, probe), legacy console putchar (EID 1), DBCN write and write_byte, TIME
# set_timer (mtimecmp; the machine timer interrupt becomes STIP, as OpenSBI does without Sstc) and
# SRST (shutdown and reboot through the SiFive test device). Anything else answers NOT_SUPPORTED.
        .equ    UART, 0x10000000
        .equ    FINISHER, 0x100000
        .equ    MTIMECMP, 0x02004000
        .equ    EID_LEGACY_PUTCHAR, 1
        .equ    EID_BASE, 0x10
        .equ    EID_TIME, 0x54494D45
        .equ    EID_DBCN, 0x4442434E
        .equ    EID_SRST, 0x53525354
        .equ    SBI_ERR_NOT_SUPPORTED, -2
        .equ    SBI_ERR_INVALID_PARAM, -3
        .equ    MIP_STIP, 0x20
        .equ    MIE_MTIE, 0x80

        .text
        .globl  _start
_start:
        la      sp, m_stack_top
        csrw    mscratch, sp
        mv      s0, a0
        mv      s1, a1
        lw      t0, 0(a2)
        li      t1, 0x4942534f          # fw_dynamic_info magic "OSBI"
        bne     t0, t1, bad_info
        lw      t0, 12(a2)              # next_mode: S
        li      t1, 1
        bne     t0, t1, bad_info
        lw      s2, 8(a2)               # next_addr
        la      a0, m_banner
        call    puts
        mv      a0, s2
        call    puthex
        li      a0, '\n'
        call    putc
        li      t0, -1                  # NAPOT over the whole address space: S/U may read, write, execute
        csrw    pmpaddr0, t0
        li      t0, 0x1f
        csrw    pmpcfg0, t0
        li      t0, 0x222
        csrw    mideleg, t0
        li      t0, 0xb109
        csrw    medeleg, t0
        li      t0, 7
        csrw    mcounteren, t0
        la      t0, m_trap
        csrw    mtvec, t0
        li      t0, 0x1800              # mstatus.MPP = S
        csrc    mstatus, t0
        li      t0, 0x0800
        csrs    mstatus, t0
        csrw    mepc, s2
        mv      a0, s0
        mv      a1, s1
        mret

bad_info:
        la      a0, m_bad
        call    puts
        li      t0, FINISHER
        li      t1, (1 << 16) | 0x3333
        sw      t1, 0(t0)
1:      j       1b

        .balign 4
# Every trap of a kernel below M comes here: its registers but a0/a1 are kept (SBI calling convention).
m_trap:
        csrrw   sp, mscratch, sp
        addi    sp, sp, -32
        sw      ra, 0(sp)
        sw      t0, 4(sp)
        sw      t1, 8(sp)
        sw      t2, 12(sp)
        sw      t3, 16(sp)
        sw      t4, 20(sp)
        csrr    t0, mcause
        bltz    t0, m_interrupt
        li      t1, 9                   # ecall from S
        bne     t0, t1, m_unexpected
        csrr    t0, mepc
        addi    t0, t0, 4
        csrw    mepc, t0
        li      t0, EID_LEGACY_PUTCHAR
        beq     a7, t0, sbi_putchar
        li      t0, EID_BASE
        beq     a7, t0, sbi_base
        li      t0, EID_DBCN
        beq     a7, t0, sbi_dbcn
        li      t0, EID_TIME
        beq     a7, t0, sbi_time
        li      t0, EID_SRST
        beq     a7, t0, sbi_srst
not_supported:
        li      a0, SBI_ERR_NOT_SUPPORTED
        li      a1, 0
m_return:
        lw      ra, 0(sp)
        lw      t0, 4(sp)
        lw      t1, 8(sp)
        lw      t2, 12(sp)
        lw      t3, 16(sp)
        lw      t4, 20(sp)
        addi    sp, sp, 32
        csrrw   sp, mscratch, sp
        mret

m_interrupt:
        slli    t0, t0, 1
        srli    t0, t0, 1
        li      t1, 7                   # machine timer: hand it to S-mode as STIP
        bne     t0, t1, m_unexpected
        li      t1, MIE_MTIE
        csrc    mie, t1
        li      t1, MIP_STIP
        csrs    mip, t1
        j       m_interrupt_return
m_interrupt_return:
        lw      ra, 0(sp)
        lw      t0, 4(sp)
        lw      t1, 8(sp)
        lw      t2, 12(sp)
        lw      t3, 16(sp)
        lw      t4, 20(sp)
        addi    sp, sp, 32
        csrrw   sp, mscratch, sp
        mret

m_unexpected:
        la      a0, m_trap_msg
        call    puts
        csrr    a0, mcause
        call    puthex
        li      a0, ' '
        call    putc
        csrr    a0, mepc
        call    puthex
        li      a0, '\n'
        call    putc
        li      t0, FINISHER
        li      t1, (2 << 16) | 0x3333
        sw      t1, 0(t0)
2:      j       2b

sbi_putchar:
        call    putc
        li      a0, 0
        j       m_return

sbi_base:
        li      t0, 0                   # get_spec_version: 1.0
        bne     a6, t0, 3f
        li      a0, 0
        li      a1, 0x01000000
        j       m_return
3:      li      t0, 3                   # probe_extension(a0)
        bne     a6, t0, 4f
        li      a1, 1
        li      t0, EID_LEGACY_PUTCHAR
        beq     a0, t0, 5f
        li      t0, EID_BASE
        beq     a0, t0, 5f
        li      t0, EID_DBCN
        beq     a0, t0, 5f
        li      t0, EID_TIME
        beq     a0, t0, 5f
        li      t0, EID_SRST
        beq     a0, t0, 5f
        li      a1, 0
5:      li      a0, 0
        j       m_return
4:      li      t0, 7                   # ids and versions (1, 2, 4..6): 0
        bgeu    a6, t0, not_supported
        li      a0, 0
        li      a1, 0
        j       m_return

sbi_dbcn:
        li      t0, 0                   # write(num_bytes, base_lo, base_hi): physical memory
        bne     a6, t0, 6f
        bnez    a2, not_supported
        mv      t2, a1
        add     t3, a1, a0
        mv      t4, a0
7:      bgeu    t2, t3, 8f
        lbu     a0, 0(t2)
        call    putc
        addi    t2, t2, 1
        j       7b
8:      li      a0, 0
        mv      a1, t4
        j       m_return
6:      li      t0, 2                   # write_byte(byte)
        bne     a6, t0, not_supported
        call    putc
        li      a0, 0
        li      a1, 0
        j       m_return

sbi_time:
        bnez    a6, not_supported       # set_timer(lo, hi)
        li      t0, MTIMECMP
        li      t1, -1
        sw      t1, 4(t0)
        sw      a0, 0(t0)
        sw      a1, 4(t0)
        li      t1, MIP_STIP
        csrc    mip, t1
        li      t1, MIE_MTIE
        csrs    mie, t1
        li      a0, 0
        j       m_return

sbi_srst:
        bnez    a6, not_supported       # system_reset(type, reason)
        li      t1, 0x5555              # shutdown
        beqz    a0, 9f
        li      t0, 2
        bgtu    a0, t0, 10f
        li      t1, 0x7777              # cold or warm reboot
9:      li      t0, FINISHER
        sw      t1, 0(t0)
11:     j       11b
10:     li      a0, SBI_ERR_INVALID_PARAM
        j       m_return

putc:
        li      t0, UART
12:     lbu     t1, 5(t0)
        andi    t1, t1, 0x20
        beqz    t1, 12b
        sb      a0, 0(t0)
        ret

puts:
        mv      t2, a0
        mv      t3, ra
13:     lbu     a0, 0(t2)
        beqz    a0, 14f
        call    putc
        addi    t2, t2, 1
        j       13b
14:     mv      ra, t3
        ret

puthex:
        mv      t2, a0
        mv      t3, ra
        li      t4, 28
15:     srl     a0, t2, t4
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 16f
        addi    a0, a0, 'a' - 10 - '0'
16:     addi    a0, a0, '0'
        call    putc
        addi    t4, t4, -4
        bgez    t4, 15b
        mv      ra, t3
        ret

        .section .rodata
m_banner:       .asciz  "mini-sbi: S-mode kernel at "
m_bad:          .asciz  "mini-sbi: no fw_dynamic_info for an S-mode kernel\n"
m_trap_msg:     .asciz  "mini-sbi: unexpected trap "
        .bss
        .balign 16
m_stack:        .zero   1024
m_stack_top:
