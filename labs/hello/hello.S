# hello.S: the first vmlab guest. It prints a greeting on the UART (ns16550a at 0x10000000),
# then echoes every character you type. Between characters the hart sleeps in WFI; the UART's
# receive interrupt, routed through the PLIC, wakes it.

        .equ UART, 0x10000000       # ns16550a: THR/RBR at +0, IER at +1, LSR at +5
        .equ LSR_DR, 0x01           # LSR: a received byte is waiting
        .equ LSR_THRE, 0x20         # LSR: the transmitter can take a byte
        .equ PLIC, 0x0c000000
        .equ UART_IRQ, 10
        .equ PLIC_ENABLE, PLIC + 0x2000      # context 0 = hart 0 in M-mode
        .equ PLIC_CLAIM, PLIC + 0x200004

        .text
        .globl _start
_start:
        la      sp, stack_top
        la      a0, greeting
        call    puts

        li      t0, UART
        li      t1, 1
        sb      t1, 1(t0)           # IER: interrupt when a byte arrives
        li      t0, PLIC
        li      t1, 1
        sw      t1, 4*UART_IRQ(t0)  # priority 1 for the UART's source
        li      t0, PLIC_ENABLE
        li      t1, 1 << UART_IRQ
        sw      t1, 0(t0)
        li      t0, 1 << 11
        csrs    mie, t0             # MEIE: an external interrupt ends WFI (mstatus.MIE stays 0)

echo:
        li      s0, UART
        lbu     t1, 5(s0)
        andi    t1, t1, LSR_DR
        bnez    t1, got
        wfi                         # sleep until the UART raises its line
        j       echo
got:
        lbu     a0, 0(s0)           # reading RBR takes the byte
        call    putc
        li      t1, '\r'
        bne     a0, t1, ack
        li      a0, '\n'            # a terminal's Enter sends CR: move to a new line too
        call    putc
ack:
        li      t2, PLIC_CLAIM
        lw      t3, 0(t2)           # claim the interrupt ...
        beqz    t3, echo
        sw      t3, 0(t2)           # ... and complete it, so the next byte raises it again
        j       echo

# putc(a0): waits until the transmitter is free, then sends one byte. Keeps a0.
putc:
        li      t0, UART
1:      lbu     t1, 5(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, 0(t0)
        ret

# puts(a0): sends a NUL-terminated string.
puts:
        addi    sp, sp, -8
        sw      ra, 4(sp)
        sw      s1, 0(sp)
        mv      s1, a0
1:      lbu     a0, 0(s1)
        beqz    a0, 2f
        call    putc
        addi    s1, s1, 1
        j       1b
2:      lw      s1, 0(sp)
        lw      ra, 4(sp)
        addi    sp, sp, 8
        ret

        .section .rodata
greeting:
        .asciz  "Hello from vmlab! Type something and I will echo it.\r\n"

        .bss
        .align  4
stack:
        .space  4096
stack_top:
