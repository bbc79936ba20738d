# dirty.S: a guest that writes memory at a known rate, for the migration lab. It owns a working
# set of PAGES pages (PAGES * 4 KiB in .bss) and runs BURSTS bursts: each burst stores one word
# into each of the next PER_BURST pages of the set (round robin), then computes for SPIN loop
# iterations without a store. Every REPORT bursts it prints the burst number and the word it
# stored last. At the end it sums every word of the working set and prints the sum, so a page a
# migration forgot shows up as a wrong sum, then prints "done" and powers off through the test
# finisher (exit code 0).
#
# Rate: a burst is PER_BURST stores to distinct pages in 15 * PER_BURST + 2 * SPIN + 8
# instructions (4,248 with the defaults), so the guest dirties 16 pages every 4,248 instructions,
# about 3,770 pages per million instructions, never more than PAGES distinct pages (and its stack).
# It runs in M-mode with paging off, bare and in every VMM mode.

        .equ PAGES, 128             # the working set, in 4 KiB pages (at most 1024)
        .equ PER_BURST, 16          # pages written per burst
        .equ SPIN, 2000             # iterations of the store-free loop between bursts
        .equ BURSTS, 2000           # bursts in the run
        .equ REPORT, 100            # a line every REPORT bursts

        .equ UART, 0x10000000       # ns16550a: THR at +0, LSR at +5
        .equ LSR_THRE, 0x20
        .equ FINISHER, 0x100000     # SiFive test finisher: 0x5555 powers off with code 0

        .text
        .globl _start
_start:
        la      sp, stack_top
        la      a0, banner
        call    puts
        li      s0, 0               # s0: bursts done
        li      s1, 0               # s1: the next page of the working set to write
        la      s2, work            # s2: the working set
burst:
        li      s3, PER_BURST       # s3: stores left in this burst
1:      slli    t0, s1, 12          # the page's offset in the set
        andi    t1, s0, 0x3ff
        slli    t1, t1, 2           # a word that moves through the page from burst to burst
        add     t0, t0, t1
        add     t0, t0, s2
        li      t2, 0x9e3779b1
        mul     t2, t2, s0
        add     t2, t2, s1          # the value: a mix of burst and page
        sw      t2, 0(t0)
        addi    s1, s1, 1
        li      t3, PAGES
        bltu    s1, t3, 2f
        li      s1, 0
2:      addi    s3, s3, -1
        bnez    s3, 1b
        li      t4, SPIN            # compute without stores
3:      addi    t4, t4, -1
        bnez    t4, 3b
        addi    s0, s0, 1
        li      t5, REPORT
        remu    t5, s0, t5
        bnez    t5, 4f
        mv      s5, t2
        call    report
4:      li      t5, BURSTS
        bltu    s0, t5, burst
        call    sum
        la      a0, done
        call    puts
        li      t0, FINISHER
        li      t1, 0x5555
        sw      t1, 0(t0)
5:      j       5b

# report: prints "burst NNNNNNNN stored XXXXXXXX" (both in hex): the bursts done and the last
# value stored (in s5).
report:
        addi    sp, sp, -4
        sw      ra, 0(sp)
        la      a0, burst_text
        call    puts
        mv      a0, s0
        call    puthex
        la      a0, stored_text
        call    puts
        mv      a0, s5
        call    puthex
        la      a0, newline
        call    puts
        lw      ra, 0(sp)
        addi    sp, sp, 4
        ret

# sum: prints "sum XXXXXXXX", the sum of every word of the working set, the sum rotated left by
# one before each word is added so that a word in the wrong place changes it too.
sum:
        addi    sp, sp, -4
        sw      ra, 0(sp)
        la      a0, sum_text
        call    puts
        mv      t0, s2
        li      t1, PAGES * 1024    # words in the set
        li      t2, 0               # the sum
6:      lw      t3, 0(t0)
        slli    t4, t2, 1
        srli    t2, t2, 31
        or      t2, t2, t4          # rotate the sum left by one
        add     t2, t2, t3
        addi    t0, t0, 4
        addi    t1, t1, -1
        bnez    t1, 6b
        mv      a0, t2
        call    puthex
        la      a0, newline
        call    puts
        lw      ra, 0(sp)
        addi    sp, sp, 4
        ret

# puthex(a0): eight hex digits.
puthex:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s4, 0(sp)
        mv      s4, a0
        li      t6, 8
7:      srli    a0, s4, 28
        slli    s4, s4, 4
        li      t0, 10
        bltu    a0, t0, 8f
        addi    a0, a0, 'a' - '0' - 10
8:      addi    a0, a0, '0'
        call    putc
        addi    t6, t6, -1
        bnez    t6, 7b
        lw      s4, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

# putc(a0): waits until the transmitter is free, then sends one byte. Keeps a0.
putc:
        li      t0, UART
9:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 9b
        sb      a0, 0(t0)
        ret

# puts(a0): sends a NUL-terminated string.
puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s1, 0(sp)
        mv      s1, a0
10:     lbu     a0, 0(s1)
        beqz    a0, 11f
        call    putc
        addi    s1, s1, 1
        j       10b
11:     lw      s1, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

        .section .rodata
banner:
        .asciz  "migration lab: writing the working set\n"
burst_text:
        .asciz  "burst "
stored_text:
        .asciz  " stored "
sum_text:
        .asciz  "sum "
newline:
        .asciz  "\n"
done:
        .asciz  "done\n"

        .bss
        .align  12
work:
        .space  PAGES * 4096
        .align  4
stack:
        .space  4096
stack_top:
