/* picolibc stdio on the virt machine's ns16550a UART, and _exit through the SiFive test finisher. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define UART0 ((volatile uint8_t *)0x10000000u)
#define UART_LSR_DR 0x01u
#define UART_LSR_THRE 0x20u
#define UART_LSR_TEMT 0x40u
#define FINISHER ((volatile uint32_t *)0x00100000u)

static int uart_putc(char c, FILE *file)
{
    (void)file;
    while (!(UART0[5] & UART_LSR_THRE)) {
    }
    UART0[0] = (uint8_t)c;
    return (unsigned char)c;
}

static int uart_getc(FILE *file)
{
    (void)file;
    while (!(UART0[5] & UART_LSR_DR)) {
    }
    return UART0[0];
}

static FILE uart_file = FDEV_SETUP_STREAM(uart_putc, uart_getc, NULL, _FDEV_SETUP_RW);

FILE *const stdin = &uart_file;
FILE *const stdout = &uart_file;
FILE *const stderr = &uart_file;

void _exit(int code)
{
    /* Everything sent first: QEMU holds a byte its host side did not take at once, and would lose
       it at the power-off. */
    while (!(UART0[5] & UART_LSR_TEMT)) {
    }
    *FINISHER = code == 0 ? 0x5555u : ((uint32_t)code << 16) | 0x3333u;
    for (;;) {
    }
}

void crt0_report_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);

/* Called by crt0 on any trap: the C guests never expect one. */
void crt0_report_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    printf("unexpected trap mcause=%08lx mepc=%08lx mtval=%08lx\n", (unsigned long)mcause, (unsigned long)mepc, (unsigned long)mtval);
    _exit(99);
}
