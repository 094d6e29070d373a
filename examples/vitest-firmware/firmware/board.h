/*
 * The RISC-V virt board as this firmware sees it (addresses as QEMU hw/riscv/virt.c and softboard's
 * src/hw/riscv/virt.ts): NS16550A UART on PLIC source 10, SiFive PLIC, ACLINT machine timer at 10 MHz,
 * sifive_test to power off.
 */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

#define UART0_BASE      0x10000000UL
#define UART0_IRQ       10
#define PLIC_BASE       0x0c000000UL
#define CLINT_BASE      0x02000000UL
#define MTIMECMP0       (CLINT_BASE + 0x4000)   /* hart 0 */
#define MTIME           (CLINT_BASE + 0xbff8)
#define MTIME_HZ        10000000UL              /* timebase-frequency of the virt board */
#define TEST_BASE       0x00100000UL
#define TEST_PASS       0x5555
#define TEST_FAIL       0x3333

/* Machine-mode interrupt bits (mie/mip) and mcause codes. */
#define MIE_MTIE        (1UL << 7)
#define MIE_MEIE        (1UL << 11)
#define MSTATUS_MIE     (1UL << 3)
#define IRQ_M_TIMER     7
#define IRQ_M_EXT       11

static inline uint8_t mmio_read8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

#define csr_read(csr) ({ unsigned long __v; __asm__ volatile ("csrr %0, " #csr : "=r"(__v)); __v; })
#define csr_set(csr, bits) __asm__ volatile ("csrs " #csr ", %0" :: "r"(bits))
#define csr_clear(csr, bits) __asm__ volatile ("csrc " #csr ", %0" :: "r"(bits))

static inline void wfi(void) { __asm__ volatile ("wfi"); }

/* PLIC (SiFive layout; context 0 is hart 0's M mode). */
void plic_enable(unsigned source, unsigned priority);
unsigned plic_claim(void);
void plic_complete(unsigned source);

/* Drivers. */
void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
void uart_putdec(unsigned long v);
int uart_getc(void);           /* blocks (in WFI) until a byte arrives */
void uart_irq(void);

void timer_init(unsigned hz);
unsigned long timer_ticks(void);
void sleep_ticks(unsigned long n);
void timer_irq(void);

#endif
