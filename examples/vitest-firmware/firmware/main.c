/*
 * A tiny command shell over the UART driver, with the timer driver's tick (100 Hz):
 *   ticks         prints the tick count
 *   sleep N       sleeps N ticks, then prints "slept N ticks"
 *   echo TEXT     prints TEXT
 *   exit N        powers the board off with status N (0: pass)
 * Input is not echoed. Each command answers on its own line, then a new "> " prompt.
 */
#include "board.h"

#define TICK_HZ 100

static int streq(const char *a, const char *b)
{
  while (*a && *a == *b) { a++; b++; }
  return *a == *b;
}

static int starts_with(const char *s, const char *prefix)
{
  while (*prefix) if (*s++ != *prefix++) return 0;
  return 1;
}

static unsigned long parse_dec(const char *s)
{
  unsigned long v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
  return v;
}

static void read_line(char *buf, unsigned size)
{
  unsigned n = 0;
  for (;;) {
    int c = uart_getc();
    if (c == '\r' || c == '\n') {
      if (n == 0) continue;   /* skip the \n of a \r\n */
      break;
    }
    if (n + 1 < size) buf[n++] = (char)c;
  }
  buf[n] = 0;
}

int main(void)
{
  char line[80];
  uart_init();
  timer_init(TICK_HZ);
  csr_set(mstatus, MSTATUS_MIE);
  uart_puts("softboard example firmware\n");
  for (;;) {
    uart_puts("> ");
    read_line(line, sizeof line);
    if (streq(line, "ticks")) {
      uart_puts("ticks=");
      uart_putdec(timer_ticks());
      uart_putc('\n');
    } else if (starts_with(line, "sleep ")) {
      unsigned long n = parse_dec(line + 6);
      sleep_ticks(n);
      uart_puts("slept ");
      uart_putdec(n);
      uart_puts(" ticks\n");
    } else if (starts_with(line, "echo ")) {
      uart_puts(line + 5);
      uart_putc('\n');
    } else if (starts_with(line, "exit ")) {
      return (int)parse_dec(line + 5);
    } else {
      uart_puts("unknown command: ");
      uart_puts(line);
      uart_putc('\n');
    }
  }
}
