/*
 * NS16550A driver: 115200 8N1 with the FIFOs on, transmit by polling, receive by interrupt (PLIC
 * source 10) into a ring buffer that uart_getc drains.
 */
#include "board.h"

#define RBR 0   /* receive buffer (read), THR transmit (write); DLL with LCR.DLAB */
#define IER 1   /* interrupt enable; DLM with LCR.DLAB */
#define FCR 2   /* FIFO control (write) */
#define LCR 3
#define LSR 5
#define IER_RDI   0x01
#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define FCR_ENABLE_CLEAR 0x07   /* FIFOs on, both cleared, receive trigger at 1 byte */
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define UART_CLOCK 3686400UL    /* clock-frequency of the virt board's UART */
#define BAUD       115200UL

#define RX_SIZE 64

/* Driver statistics: tests read them from guest memory by symbol. */
struct uart_stats {
  uint32_t rx_bytes;     /* bytes taken from the receiver */
  uint32_t rx_irqs;      /* receive interrupts handled */
  uint32_t rx_dropped;   /* bytes lost because the ring was full */
};
struct uart_stats uart_stats;

static volatile uint8_t rx_ring[RX_SIZE];
static volatile unsigned rx_head, rx_tail;

static inline uint8_t reg_read(unsigned r) { return mmio_read8(UART0_BASE + r); }
static inline void reg_write(unsigned r, uint8_t v) { mmio_write8(UART0_BASE + r, v); }

void uart_init(void)
{
  unsigned divisor = UART_CLOCK / (16 * BAUD);
  reg_write(IER, 0);
  reg_write(LCR, LCR_DLAB);
  reg_write(RBR, divisor & 0xff);
  reg_write(IER, divisor >> 8);
  reg_write(LCR, LCR_8N1);
  reg_write(FCR, FCR_ENABLE_CLEAR);
  reg_write(IER, IER_RDI);
  plic_enable(UART0_IRQ, 1);
  csr_set(mie, MIE_MEIE);
}

void uart_putc(char c)
{
  while (!(reg_read(LSR) & LSR_THRE)) {}
  reg_write(RBR, (uint8_t)c);
}

void uart_puts(const char *s)
{
  while (*s) uart_putc(*s++);
}

void uart_putdec(unsigned long v)
{
  char buf[24];
  int i = 0;
  do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (i) uart_putc(buf[--i]);
}

/* Called from the trap handler for PLIC source 10: drain the receive FIFO. */
void uart_irq(void)
{
  uart_stats.rx_irqs++;
  while (reg_read(LSR) & LSR_DR) {
    uint8_t c = reg_read(RBR);
    uart_stats.rx_bytes++;
    unsigned next = (rx_head + 1) % RX_SIZE;
    if (next == rx_tail) { uart_stats.rx_dropped++; continue; }
    rx_ring[rx_head] = c;
    rx_head = next;
  }
}

int uart_getc(void)
{
  for (;;) {
    /* Check and sleep with interrupts masked: an interrupt arriving in between still ends the WFI. */
    csr_clear(mstatus, MSTATUS_MIE);
    if (rx_tail != rx_head) {
      uint8_t c = rx_ring[rx_tail];
      rx_tail = (rx_tail + 1) % RX_SIZE;
      csr_set(mstatus, MSTATUS_MIE);
      return c;
    }
    wfi();
    csr_set(mstatus, MSTATUS_MIE);
  }
}
