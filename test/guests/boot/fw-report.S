# A firmware (or -bios none kernel) that reports what the reset vector handed it, in M-mode: a0
# (hartid), a1 (DTB), a2 (fw_dynamic_info), the six words of that block (magic, version, next_addr,
# next_mode, options, boot_hart), the first word at next_addr and the DTB's magic, then passes.
# The same output on QEMU 7.2 and vmlab means the same boot layout and reset vector.
        .equ    UART, 0x10000000
        .equ    FINISHER, 0x100000
        .text
        .globl  _start
_start:
        mv      s0, a0
        mv      s1, a1
        mv      s2, a2
        la      sp, stack_top
        la      a0, m_a0
        mv      a1, s0
        call    report
        la      a0, m_a1
        mv      a1, s1
        call    report
        la      a0, m_a2
        mv      a1, s2
        call    report
        li      s3, 0
1:      la      a0, m_info
        add     t0, s2, s3
        lw      a1, 0(t0)
        call    report
        addi    s3, s3, 4
        li      t0, 24
        blt     s3, t0, 1b
        la      a0, m_next
        lw      t0, 8(s2)
        lw      a1, 0(t0)
        call    report
        la      a0, m_dtb
        lw      a1, 0(s1)
        call    report
        li      t0, FINISHER
        li      t1, 0x5555
        sw      t1, 0(t0)
2:      j       2b

# report(a0 = label, a1 = value): "label XXXXXXXX\n"
report:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      a1, 0(sp)
        call    puts
        lw      a0, 0(sp)
        call    puthex
        li      a0, '\n'
        call    putc
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

putc:
        li      t0, UART
3:      lbu     t1, 5(t0)
        andi    t1, t1, 0x20
        beqz    t1, 3b
        sb      a0, 0(t0)
        ret

puts:
        mv      t2, a0
        mv      t3, ra
4:      lbu     a0, 0(t2)
        beqz    a0, 5f
        call    putc
        addi    t2, t2, 1
        j       4b
5:      mv      ra, t3
        ret

puthex:
        mv      t2, a0
        mv      t3, ra
        li      t4, 28
6:      srl     a0, t2, t4
        andi    a0, a0, 15
        li      t0, 10
        blt     a0, t0, 7f
        addi    a0, a0, 'a' - 10 - '0'
7:      addi    a0, a0, '0'
        call    putc
        addi    t4, t4, -4
        bgez    t4, 6b
        mv      ra, t3
        ret

        .section .rodata
m_a0:   .asciz  "a0 "
m_a1:   .asciz  "a1 "
m_a2:   .asciz  "a2 "
m_info: .asciz  "fw_dynamic_info "
m_next: .asciz  "word at next_addr "
m_dtb:  .asciz  "dtb magic "
        .bss
        .balign 16
stack:  .zero   256
stack_top:
