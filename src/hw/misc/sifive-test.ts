/**
 * SiFive test finisher (QEMU 7.2 hw/misc/sifive_test.c): the RISC-V virt board's power-off / reboot
 * device, which bare-metal tests also use to report pass or fail.
 *
 * Contract:
 * - One MMIO region of 0x1000 bytes; accesses of 2 or 4 bytes (valid sizes as QEMU). Reads return 0.
 * - A write at offset 0 of `status | code << 16`:
 *   - `0x5555` (FINISHER_PASS): emits `shutdown` with exit code 0 and kind `'pass'`
 *     (QEMU qemu_system_shutdown_request, GUEST_SHUTDOWN);
 *   - `0x3333` (FINISHER_FAIL): emits `shutdown` with exit code `code` and kind `'fail'`
 *     (QEMU qemu_system_shutdown_request_with_code, GUEST_PANIC);
 *   - `0x7777` (FINISHER_RESET): emits `reset` (QEMU qemu_system_reset_request, GUEST_RESET).
 *   Anything else is a guest error (logged).
 * - No IRQ, no clock. The device never exits the process: the machine listens to {@link SifiveTest.events}
 *   and stops its run loop.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType } from '../../qom/index.js';
import { MemoryRegion } from '../../memory/index.js';
import { Logger } from '../../util/log.js';
import type { VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_SIFIVE_TEST). */
export const TYPE_SIFIVE_TEST = 'riscv.sifive.test';

/** Status values (QEMU include/hw/misc/sifive_test.h). */
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/** Size of the MMIO region. */
export const SIFIVE_TEST_SIZE = 0x1000;

/** Events of {@link SifiveTest.events}. */
export interface SifiveTestEvents {
  /**
   * The guest asked to power off: `exitCode` 0 with kind `'pass'`, or the guest's code with kind
   * `'fail'` (a FAIL with code 0 still exits with 0, as QEMU).
   */
  shutdown: [exitCode: number, kind: 'pass' | 'fail'];
  /** The guest asked for a machine reset. */
  reset: [];
}

/** What the device needs from its machine (only a logger). */
export interface SifiveTestMachineContext {
  /** Where guest errors go (default: discarded). */
  readonly log?: Logger;
}

/** SiFive test finisher; listen to {@link events} for `shutdown` and `reset`. */
export class SifiveTest extends SysBusDevice {
  /** Snapshot state: none (every write acts at once), declared so snapshots know the device. */
  static readonly vmstate: VmStateDescription<SifiveTest> = { name: TYPE_SIFIVE_TEST, version: 1, fields: [] };

  /** `shutdown` and `reset` requests from the guest. */
  readonly events = new EventEmitter<SifiveTestEvents>();
  /** The MMIO region (0x1000 bytes, sysbus region 0). */
  readonly region: MemoryRegion;
  #log = new Logger();

  constructor() {
    super();
    this.region = MemoryRegion.io(this, TYPE_SIFIVE_TEST, SIFIVE_TEST_SIZE, {
      read: () => 0,
      write: (addr, value) => this.write(addr, value),
      endianness: 'native',
      valid: { min: 2, max: 4 },
    });
  }

  protected override onInit(): void {
    this.initMmio(this.region);
  }

  /** Gives the device its machine's logger. */
  setMachineContext(ctx: SifiveTestMachineContext): void {
    this.#log = ctx.log ?? new Logger();
  }

  private write(addr: number, value: number | bigint): void {
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    if (addr === 0) {
      const status = v & 0xffff;
      const code = (v >>> 16) & 0xffff;
      switch (status) {
        case FINISHER_FAIL:
          this.events.emit('shutdown', code, 'fail');
          return;
        case FINISHER_PASS:
          this.events.emit('shutdown', 0, 'pass');
          return;
        case FINISHER_RESET:
          this.events.emit('reset');
          return;
        default:
          break;
      }
    }
    this.#log.guestError(`sifive_test_write: write: addr=0x${addr.toString(16)} val=0x${v.toString(16).padStart(16, '0')}`);
  }
}

defineType({
  name: TYPE_SIFIVE_TEST,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: SifiveTest,
  description: 'SiFive test finisher (power off with pass/fail code, reset)',
});
