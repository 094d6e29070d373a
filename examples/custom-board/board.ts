/**
 * The custom board: an RV32 microcontroller-like machine declared with defineBoard, carrying two
 * user-written devices (./gpio.ts, ./i2c.ts) next to softboard's UART, test finisher, CLINT and PLIC,
 * and a peripheral stub for a PWM block that is not modelled yet.
 *
 * ```
 * 0x0010_0000  test    sifive_test (power off)
 * 0x0200_0000  clint   ACLINT
 * 0x0c00_0000  plic    PLIC, 32 sources
 * 0x1000_0000  uart0   NS16550A          PLIC 10
 * 0x1001_2000  gpio    acme-gpio         PLIC 3
 * 0x1001_5000  pwm     peripheral stub
 * 0x1001_6000  i2c0    acme-i2c          (TMP102 at 0x48 behind it)
 * 0x2000_0000  flash   ROM 256 KiB       firmware code
 * 0x8000_0000  sram    RAM 64 KiB        data, stack, device tree
 * ```
 */
import { defineBoard, type BoardMachine, type BoardOptions } from '../../src/hw/core/board.js';
import { TYPE_ACME_GPIO, type AcmeGpio } from './gpio.js';
import { TYPE_ACME_I2C, Tmp102, type AcmeI2c } from './i2c.js';

export const createCustomBoardMachine = defineBoard({
  name: 'acme-custom',
  cpu: { arch: 'riscv32', isa: 'rv32imac_zicsr_zifencei' },
  memory: [
    { name: 'flash', kind: 'rom', base: 0x2000_0000, size: '256K' },
    { name: 'sram', kind: 'ram', base: 0x8000_0000, size: '64K' },
  ],
  clint: { base: 0x0200_0000 },
  interruptController: { base: 0x0c00_0000, sources: 32 },
  devices: [
    { type: 'riscv.sifive.test', id: 'test', at: 0x0010_0000 },
    { type: 'ns16550a', id: 'uart0', at: 0x1000_0000, irq: 10, props: { chardev: 'serial0' } },
    { type: TYPE_ACME_GPIO, id: 'gpio', at: 0x1001_2000, irq: 3 },
    { type: TYPE_ACME_I2C, id: 'i2c0', at: 0x1001_6000 },
  ],
  stubs: [{ name: 'pwm', base: 0x1001_5000, size: 0x100, registers: { 0x0: { name: 'ctrl' }, 0x4: { name: 'duty' } } }],
});

/** The board with its sensor on the I2C bus; what the example and its test run. */
export interface CustomBoard {
  readonly machine: BoardMachine;
  readonly gpio: AcmeGpio;
  readonly sensor: Tmp102;
}

/** Builds the board and puts a TMP102 at I2C address 0x48. */
export function createCustomBoard(options: BoardOptions = {}): CustomBoard {
  const machine = createCustomBoardMachine(options);
  const sensor = new Tmp102(0x48);
  machine.dev<AcmeI2c>('i2c0').attach(sensor);
  return { machine, gpio: machine.dev<AcmeGpio>('gpio'), sensor };
}
