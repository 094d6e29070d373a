/* Trap dispatch and the PLIC (SiFive PLIC as QEMU hw/intc/sifive_plic.c, virt layout). */
#include "board.h"

#define PLIC_PRIORITY(src)   (PLIC_BASE + 4UL * (src))
#define PLIC_ENABLE0         (PLIC_BASE + 0x2000UL)      /* context 0 = hart 0 M mode */
#define PLIC_THRESHOLD0      (PLIC_BASE + 0x200000UL)
#define PLIC_CLAIM0          (PLIC_BASE + 0x200004UL)

void plic_enable(unsigned source, unsigned priority)
{
  mmio_write32(PLIC_PRIORITY(source), priority);
  uintptr_t word = PLIC_ENABLE0 + 4UL * (source / 32);
  mmio_write32(word, mmio_read32(word) | (1U << (source % 32)));
  mmio_write32(PLIC_THRESHOLD0, 0);
}

unsigned plic_claim(void) { return mmio_read32(PLIC_CLAIM0); }
void plic_complete(unsigned source) { mmio_write32(PLIC_CLAIM0, source); }

/* Exceptions are bugs here: say which and power off with status 99. */
static void fatal(unsigned long cause, unsigned long epc, unsigned long tval)
{
  uart_puts("FATAL: exception mcause=");
  uart_putdec(cause);
  uart_puts(" mepc=");
  uart_putdec(epc);
  uart_puts(" mtval=");
  uart_putdec(tval);
  uart_putc('\n');
  mmio_write32(TEST_BASE, (99U << 16) | TEST_FAIL);
  for (;;) wfi();
}

void trap_handler(unsigned long cause, unsigned long epc, unsigned long tval)
{
  if (!(cause >> 63)) fatal(cause, epc, tval);
  switch (cause & 0xff) {
  case IRQ_M_TIMER:
    timer_irq();
    break;
  case IRQ_M_EXT:
    for (unsigned src; (src = plic_claim()) != 0; plic_complete(src)) {
      if (src == UART0_IRQ) uart_irq();
    }
    break;
  default:
    fatal(cause, epc, tval);
  }
}
