/*
 * Periodic tick on the ACLINT machine timer: each interrupt moves mtimecmp one period on and counts a
 * tick; periods missed while interrupts were off are counted too, so ticks = elapsed time / period.
 */
#include "board.h"

volatile unsigned long timer_tick_count;
static unsigned long period;
static uint64_t next_deadline;

void timer_init(unsigned hz)
{
  period = MTIME_HZ / hz;
  next_deadline = mmio_read64(MTIME) + period;
  mmio_write64(MTIMECMP0, next_deadline);
  csr_set(mie, MIE_MTIE);
}

void timer_irq(void)
{
  uint64_t now = mmio_read64(MTIME);
  do {
    timer_tick_count++;
    next_deadline += period;
  } while (next_deadline <= now);
  mmio_write64(MTIMECMP0, next_deadline);
}

unsigned long timer_ticks(void) { return timer_tick_count; }

void sleep_ticks(unsigned long n)
{
  unsigned long until = timer_tick_count + n;
  for (;;) {
    csr_clear(mstatus, MSTATUS_MIE);
    if (timer_tick_count >= until) break;
    wfi();
    csr_set(mstatus, MSTATUS_MIE);
  }
  csr_set(mstatus, MSTATUS_MIE);
}
