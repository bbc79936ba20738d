# scribble.S: a kernel that scribbles over its own memory until it dies.
#
# Like the lecture's kernel module: every period (1 ms of the CLINT timer) it writes N random bytes
# to N random guest-physical addresses in its RAM, and doubles N. The random numbers come from a
# linear congruential generator with a fixed seed, so every run makes the same writes in the same
# order and dies at the same write. The kernel assumes 16 MiB of RAM at 0x80000000 (the VMM's
# default VM size; it reads the size from nowhere): every address it writes is in
# [0x80000000, 0x81000000). It runs in M-mode and keeps everything it needs in registers, so the
# only memory it depends on is its own image: code, strings and one small buffer.

        .equ UART, 0x10000000           # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20             # LSR: the transmitter can take a byte
        .equ MTIMECMP, 0x2004000        # CLINT, hart 0
        .equ MTIME, 0x200bff8
        .equ MIE_MTIE, 1 << 7

        .equ RAM, 0x80000000
        .equ RAM_SIZE, 16 << 20         # assumed, not probed
        .equ PERIOD, 10000              # mtime ticks (10 MHz): 1 ms
        .equ SEED, 0x6732c799
        .equ LCG_A, 1664525             # x' = A * x + C mod 2^32 (Numerical Recipes)
        .equ LCG_C, 1013904223

        .text
        .globl _start
_start:
        la      a0, msg_banner
        jal     puts
        li      s0, SEED                # s0: generator state
        li      s1, 1                   # s1: N, the writes of this period
        li      s2, 1                   # s2: K, the period number
        li      s4, LCG_A
        li      s5, LCG_C
        li      s6, RAM
        li      t0, MIE_MTIE            # the timer ends WFI (mstatus.MIE stays 0: no trap)
        csrs    mie, t0

period:
        la      a0, msg_period          # "period K: N writes"
        jal     puts
        mv      a0, s2
        jal     putdec
        la      a0, msg_colon
        jal     puts
        mv      a0, s1
        jal     putdec
        la      a0, msg_writes
        jal     puts

        mv      s3, s1                  # N times: one random byte to one random address
scribble:
        mul     s0, s0, s4
        add     s0, s0, s5
        srli    t0, s0, 8               # the top 24 bits: an offset in 16 MiB
        add     t0, t0, s6
        mul     s0, s0, s4
        add     s0, s0, s5
        srli    t1, s0, 24              # the top 8 bits: the byte
        sb      t1, 0(t0)
        addi    s3, s3, -1
        bnez    s3, scribble

        slli    s1, s1, 1
        addi    s2, s2, 1

        li      t0, MTIME               # sleep until the next period: mtimecmp = mtime + PERIOD
        lw      t1, 0(t0)
        lw      t2, 4(t0)
        li      t3, PERIOD
        add     t3, t1, t3
        sltu    t4, t3, t1
        add     t2, t2, t4
        li      t0, MTIMECMP
        li      t4, -1
        sw      t4, 0(t0)               # no spurious deadline while the halves change
        sw      t2, 4(t0)
        sw      t3, 0(t0)
wait:
        wfi
        csrr    t0, mip
        andi    t0, t0, MIE_MTIE
        beqz    t0, wait
        j       period

# puts(a0): sends a NUL-terminated string. A leaf: uses t0-t2 only.
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

# putdec(a0): sends a0 as an unsigned decimal number: builds the digits backwards in digits_end,
# then continues in puts (same ra).
putdec:
        la      t2, digits_end
        li      t0, 10
1:      remu    t1, a0, t0
        divu    a0, a0, t0
        addi    t1, t1, '0'
        addi    t2, t2, -1
        sb      t1, 0(t2)
        bnez    a0, 1b
        mv      a0, t2
        j       puts

        .section .rodata
msg_banner:     .asciz "scribble: random bytes to random addresses in 16 MiB of RAM, doubling every period\n"
msg_period:     .asciz "period "
msg_colon:      .asciz ": "
msg_writes:     .asciz " writes\n"

        .data
digits:         .space 11
digits_end:     .byte 0
