/*
 * Guest run-time of the benchmark programs: UART output (NS16550A at 0x10000000: wait for LSR.THRE,
 * bit 5 of +5, then write THR at +0), the unexpected-trap report, and the memcpy/memset/memmove that
 * gcc may emit calls to even in freestanding code. Built with -fno-tree-loop-distribute-patterns so
 * those loops are not turned back into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

#define UART_BASE 0x10000000ul
#define UART_LSR 5
#define UART_LSR_THRE 0x20

void bench_exit(int status) __attribute__((noreturn));
void bench_puts(const char *s);

static void uart_putc(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
    while ((uart[UART_LSR] & UART_LSR_THRE) == 0) {
    }
    uart[0] = (uint8_t)c;
}

void bench_puts(const char *s)
{
    while (*s) uart_putc(*s++);
}

static void puthex(unsigned long v)
{
    uart_putc('0');
    uart_putc('x');
    for (int sh = (int)sizeof v * 8 - 4; sh >= 0; sh -= 4) uart_putc("0123456789abcdef"[(v >> sh) & 15]);
}

void bench_trap(unsigned long cause, unsigned long epc, unsigned long tval)
{
    bench_puts("UNEXPECTED TRAP mcause=");
    puthex(cause);
    bench_puts(" mepc=");
    puthex(epc);
    bench_puts(" mtval=");
    puthex(tval);
    bench_puts("\n");
    bench_exit(2);
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}
