# ns16550a UART driver: init, blocking putc/getc, puts, hex print.
        .equ UART_BASE, 0x10000000
        .equ RBR, 0
        .equ THR, 0
        .equ IER, 1
        .equ FCR, 2
        .equ LCR, 3
        .equ LSR, 5
        .equ LSR_DR, 0x01
        .equ LSR_THRE, 0x20

        .section .text
        .globl _start
_start:
        la      sp, stack_top
        call    uart_init
        la      a0, banner
        call    uart_puts
        li      a0, 0xdeadbeef
        call    uart_puthex
        li      a0, '\n'
        call    uart_putc
1:      j       1b

uart_init:
        li      t0, UART_BASE
        sb      zero, IER(t0)           # no interrupts
        li      t1, 0x80
        sb      t1, LCR(t0)             # DLAB on
        li      t1, 3
        sb      t1, 0(t0)               # divisor low
        sb      zero, 1(t0)
        li      t1, 0x03
        sb      t1, LCR(t0)             # 8N1, DLAB off
        li      t1, 0x07
        sb      t1, FCR(t0)
        ret

uart_putc:
        li      t0, UART_BASE
1:      lbu     t1, LSR(t0)
        andi    t1, t1, LSR_THRE
        beqz    t1, 1b
        sb      a0, THR(t0)
        ret

uart_getc:
        li      t0, UART_BASE
1:      lbu     t1, LSR(t0)
        andi    t1, t1, LSR_DR
        beqz    t1, 1b
        lbu     a0, RBR(t0)
        ret

uart_puts:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        mv      s0, a0
2:      lbu     a0, 0(s0)
        beqz    a0, 3f
        call    uart_putc
        addi    s0, s0, 1
        j       2b
3:      lw      ra, 12(sp)
        lw      s0, 8(sp)
        addi    sp, sp, 16
        ret

uart_puthex:
        addi    sp, sp, -16
        sw      ra, 12(sp)
        sw      s0, 8(sp)
        sw      s1, 4(sp)
        mv      s0, a0
        li      s1, 28
4:      srl     a0, s0, s1
        andi    a0, a0, 15
        la      t0, hexdigits
        add     t0, t0, a0
        lbu     a0, 0(t0)
        call    uart_putc
        addi    s1, s1, -4
        bgez    s1, 4b
        lw      ra, 12(sp)
        lw      s0, 8(sp)
        lw      s1, 4(sp)
        addi    sp, sp, 16
        ret

        .section .rodata
banner: .asciz  "vmlab uart ready: "
hexdigits:
        .ascii  "0123456789abcdef"

        .bss
        .align  4
stack:  .space  4096
stack_top:
