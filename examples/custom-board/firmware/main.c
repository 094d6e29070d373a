/*
 * Firmware for the custom board (board.ts): prints through the NS16550A, reads the TMP102 over the
 * ACME I2C controller, drives LEDs on GPIO pins 0-3, sets the PWM duty (a peripheral stub), then waits
 * for a button on GPIO pin 8 through the PLIC and a machine external interrupt, and powers off.
 */
#include <stdint.h>

#define REG(addr) (*(volatile uint32_t *)(addr))
#define REG8(addr) (*(volatile uint8_t *)(addr))

#define UART 0x10000000u
#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20

#define GPIO 0x10012000u
#define GPIO_DIR (GPIO + 0x00)
#define GPIO_OUT (GPIO + 0x04)
#define GPIO_IN (GPIO + 0x08)
#define GPIO_IRQ_EN (GPIO + 0x0c)
#define GPIO_IRQ_STATUS (GPIO + 0x10)
#define GPIO_IRQ 3
#define BUTTON_PIN 8

#define PWM 0x10015000u

#define I2C 0x10016000u
#define I2C_ADDR (I2C + 0x00)
#define I2C_DATA (I2C + 0x04)
#define I2C_CMD (I2C + 0x08)
#define I2C_STATUS (I2C + 0x0c)
#define CMD_START_W 1
#define CMD_START_R 2
#define CMD_WRITE 4
#define CMD_READ 8
#define CMD_STOP 16
#define ST_NACK 1
#define TMP102 0x48

#define PLIC 0x0c000000u
#define PLIC_PRIORITY(n) (PLIC + 4u * (n))
#define PLIC_ENABLE_CTX0 (PLIC + 0x2000)
#define PLIC_THRESHOLD_CTX0 (PLIC + 0x200000)
#define PLIC_CLAIM_CTX0 (PLIC + 0x200004)

static void putc_(char c) {
  while (!(REG8(UART + UART_LSR) & LSR_THRE)) {}
  REG8(UART + UART_THR) = (uint8_t)c;
}

static void puts_(const char *s) {
  while (*s) putc_(*s++);
}

static void putu(unsigned v) {
  char buf[12];
  int i = 0;
  do { buf[i++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (i) putc_(buf[--i]);
}

/* Reads a 16-bit register of the TMP102; returns -1 if the sensor does not answer. */
static int tmp102_read(uint8_t reg) {
  REG(I2C_ADDR) = TMP102;
  REG(I2C_CMD) = CMD_START_W;
  if (REG(I2C_STATUS) & ST_NACK) { REG(I2C_CMD) = CMD_STOP; return -1; }
  REG(I2C_DATA) = reg;
  REG(I2C_CMD) = CMD_WRITE;
  REG(I2C_CMD) = CMD_START_R;
  REG(I2C_CMD) = CMD_READ;
  unsigned hi = REG(I2C_DATA);
  REG(I2C_CMD) = CMD_READ;
  unsigned lo = REG(I2C_DATA);
  REG(I2C_CMD) = CMD_STOP;
  return (int)((hi << 8) | lo);
}

static volatile unsigned presses;

__attribute__((interrupt("machine"))) void trap_handler(void) {
  unsigned mcause;
  __asm__ volatile("csrr %0, mcause" : "=r"(mcause));
  if (mcause == 0x8000000bu) { /* machine external interrupt */
    unsigned src = REG(PLIC_CLAIM_CTX0);
    if (src == GPIO_IRQ) {
      REG(GPIO_IRQ_STATUS) = 1u << BUTTON_PIN; /* acknowledge the edge */
      presses++;
    }
    REG(PLIC_CLAIM_CTX0) = src; /* complete */
  }
}

int main(void) {
  puts_("acme-custom: hello\n");

  int raw = tmp102_read(0);
  if (raw < 0) { puts_("no sensor\n"); return 2; }
  int sixteenths = (int16_t)raw >> 4; /* 12-bit two's complement, 1/16 degree */
  int tenths = sixteenths * 10 / 16;
  puts_("temp=");
  if (tenths < 0) { putc_('-'); tenths = -tenths; }
  putu((unsigned)tenths / 10);
  putc_('.');
  putu((unsigned)tenths % 10);
  puts_("C\n");

  /* LEDs: pins 0-3 outputs, pattern 0101; PWM duty from the temperature. */
  REG(GPIO_DIR) = 0xf;
  REG(GPIO_OUT) = 0x5;
  REG(PWM + 4) = (unsigned)sixteenths;
  REG(PWM + 0) = 1;

  /* Button on pin 8: rising edge -> GPIO IRQ -> PLIC source 3 -> MEIP. */
  REG(PLIC_PRIORITY(GPIO_IRQ)) = 1;
  REG(PLIC_ENABLE_CTX0) = 1u << GPIO_IRQ;
  REG(PLIC_THRESHOLD_CTX0) = 0;
  REG(GPIO_IRQ_STATUS) = ~0u;
  REG(GPIO_IRQ_EN) = 1u << BUTTON_PIN;
  __asm__ volatile("csrw mtvec, %0" ::"r"(trap_handler));
  __asm__ volatile("csrs mie, %0" ::"r"(1u << 11));
  __asm__ volatile("csrs mstatus, %0" ::"r"(1u << 3));
  puts_("waiting for button\n");
  while (presses == 0) __asm__ volatile("wfi");

  REG(GPIO_OUT) = 0xa;
  puts_("button pressed\n");
  return 0;
}
