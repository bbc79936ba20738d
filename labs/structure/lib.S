# lib.S: what both kernels need in M-mode: the console driver (ns16550a, polled), decimal and hex
# output, the boot options (the device tree's /chosen/bootargs, as QEMU's -append and vmlab's
# --append set them) and the test finisher. Included by mono.S and micro.S; kernel code only.

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20             # LSR: the transmitter can take a byte
        .equ FINISHER, 0x100000         # SiFive test finisher
        .equ FINISH_PASS, 0x5555
        .equ FINISH_FAIL, 0x3333        # (code << 16) | 0x3333
        .equ FDT_MAGIC, 0xd00dfeed

        .pushsection .rodata
str_mcause:     .asciz ": mcause "
str_mepc:       .asciz ", mepc "
str_mtval:      .asciz ", mtval "
str_bootargs:   .asciz "bootargs"
        .popsection

# putc(a0): one byte to the UART. Leaf: t0, t1.
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

# putn(a0 = buffer, a1 = length): `length` bytes. Leaf: t0-t3.
putn:
        li      t0, UART
        add     a1, a0, a1
1:      beq     a0, a1, 3f
        lbu     t2, 0(a0)
2:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 2b
        sb      t2, 0(t0)
        addi    a0, a0, 1
        j       1b
3:      ret

# puts(a0): a NUL-terminated string. Leaf: t0-t2.
puts:
        li      t0, UART
1:      lbu     t2, 0(a0)
        beqz    t2, 3f
2:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 2b
        sb      t2, 0(t0)
        addi    a0, a0, 1
        j       1b
3:      ret

# puthex(a0): "0x" and eight hex digits. Leaf: t0-t4, a0.
puthex:
        mv      t3, a0
        li      t0, UART
        li      t4, 36                  # 36: "0", 32: "x", then the digits from shift 28 down
1:      li      a0, '0'
        li      t1, 36
        beq     t4, t1, 3f
        li      a0, 'x'
        li      t1, 32
        beq     t4, t1, 3f
        srl     a0, t3, t4
        andi    a0, a0, 15
        li      t1, 10
        blt     a0, t1, 2f
        addi    a0, a0, 'a' - '0' - 10
2:      addi    a0, a0, '0'
3:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 3b
        sb      a0, 0(t0)
        addi    t4, t4, -4
        bgez    t4, 1b
        ret

# report_trap(): ": mcause X, mepc Y, mtval Z" and a newline.
report_trap:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        la      a0, str_mcause
        call    puts
        csrr    a0, mcause
        call    puthex
        la      a0, str_mepc
        call    puts
        csrr    a0, mepc
        call    puthex
        la      a0, str_mtval
        call    puts
        csrr    a0, mtval
        call    puthex
        li      a0, '\n'
        call    putc
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# finish(a0 = exit code): the test finisher ends the run.
finish:
        li      t0, FINISHER
        li      t1, FINISH_PASS
        beqz    a0, 1f
        slli    t1, a0, 16
        li      t2, FINISH_FAIL
        or      t1, t1, t2
1:      sw      t1, 0(t0)
2:      j       2b

# be32(a0 = address) -> a0: a big-endian word (device-tree byte order). Leaf: t0, t1.
be32:
        lbu     t0, 0(a0)
        lbu     t1, 1(a0)
        slli    t0, t0, 8
        or      t0, t0, t1
        lbu     t1, 2(a0)
        slli    t0, t0, 8
        or      t0, t0, t1
        lbu     t1, 3(a0)
        slli    t0, t0, 8
        or      a0, t0, t1
        ret

# bootargs(a0 = device tree) -> a0: the /chosen/bootargs string, or 0 when there is none. Walks the
# structure block (Devicetree Specification 0.4, 5.4) for the first property named "bootargs".
bootargs:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        sw      s2, 0(sp)
        mv      s0, a0
        beqz    s0, 9f
        call    be32
        li      t0, FDT_MAGIC
        bne     a0, t0, 9f
        addi    a0, s0, 12              # off_dt_strings
        call    be32
        add     s2, s0, a0
        addi    a0, s0, 8               # off_dt_struct
        call    be32
        add     s1, s0, a0              # s1: the next token
1:      mv      a0, s1
        call    be32
        addi    s1, s1, 4
        li      t0, 1                   # FDT_BEGIN_NODE: skip the name and its padding
        beq     a0, t0, 2f
        li      t0, 3                   # FDT_PROP
        beq     a0, t0, 3f
        li      t0, 9                   # FDT_END
        beq     a0, t0, 9f
        j       1b                      # FDT_END_NODE, FDT_NOP
2:      lbu     t0, 0(s1)
        addi    s1, s1, 1
        bnez    t0, 2b
        addi    s1, s1, 3
        andi    s1, s1, -4
        j       1b
3:      mv      a0, s1                  # len, nameoff, value
        call    be32
        addi    s1, s1, 4
        mv      s0, a0                  # s0: the value's length (the tree's base is no longer needed)
        mv      a0, s1
        call    be32
        addi    s1, s1, 4
        add     a0, s2, a0              # the property's name
        la      a1, str_bootargs
4:      lbu     t0, 0(a0)
        lbu     t1, 0(a1)
        bne     t0, t1, 5f
        addi    a0, a0, 1
        addi    a1, a1, 1
        bnez    t0, 4b
        mv      a0, s1                  # found
        j       10f
5:      add     s1, s1, s0
        addi    s1, s1, 3
        andi    s1, s1, -4
        j       1b
9:      li      a0, 0
10:     lw      s2, 0(sp)
        lw      s1, 4(sp)
        lw      s0, 8(sp)
        lw      ra, 12(sp)
        addi    sp, sp, 16
        ret

# option(a0 = bootargs or 0, a1 = key such as "reads=", a2 = default) -> a0: the unsigned decimal
# number after the key where it starts a word of the bootargs, or the default. Leaf: t0-t4.
option:
        beqz    a0, 8f
        li      t4, ' '                 # the byte before the current position
1:      lbu     t0, 0(a0)
        beqz    t0, 8f
        li      t1, ' '
        bne     t4, t1, 4f
        mv      t2, a0                  # a word starts here: compare with the key
        mv      t3, a1
2:      lbu     t1, 0(t3)
        beqz    t1, 5f                  # the whole key matched
        lbu     t0, 0(t2)
        bne     t0, t1, 4f
        addi    t2, t2, 1
        addi    t3, t3, 1
        j       2b
4:      lbu     t4, 0(a0)
        addi    a0, a0, 1
        j       1b
5:      li      a0, 0                   # the digits
        li      t3, 10
6:      lbu     t0, 0(t2)
        addi    t0, t0, -'0'
        bgeu    t0, t3, 7f
        mul     a0, a0, t3
        add     a0, a0, t0
        addi    t2, t2, 1
        j       6b
7:      ret
8:      mv      a0, a2
        ret
