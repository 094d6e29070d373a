/**
 * Devices (QEMU hw/core/qdev.c DeviceState, and the reset of hw/core/resettable.c).
 *
 * Lifecycle: created → configured (properties set) → realized ⇄ unrealized → finalized.
 * - `realize()` runs `onRealize()` then the types' `realize` hooks (parent types first); if one
 *   throws, the device stays unrealized. Properties cannot be set while realized.
 * - Realize is explicit and per device: realizing a device does not realize its children. (QEMU
 *   realizes the devices on a device's child buses; softboard has no qdev buses yet, so a board
 *   realizes each device itself, or calls {@link realizeTree}.)
 * - `coldReset()` runs the `reset()` hook; {@link resetTree} resets a whole tree, children first
 *   (as the hold phase of QEMU resettable_phase_hold).
 * - `unrealize()` runs the types' `unrealize` hooks (child types first) then `onUnrealize()`.
 *   Finalizing a realized device unrealizes it first (QEMU device_unparent).
 * Wrong order (realize twice, unrealize or reset an unrealized device, any use after finalize)
 * throws {@link LifecycleError}.
 * @module
 */
import { LifecycleError, OptionParseError, QomTypeError, WiringError } from '../../util/errors.js';
import type { MachineRoot } from '../../qom/container.js';
import { QObject, createObject } from '../../qom/object.js';
import { type DeviceOption, parseDeviceOption } from '../../qom/opts.js';
import { registerType, isSubtype, typeExists } from '../../qom/type.js';
import { IrqLine, type IrqHandler, type IrqLevelHandler } from './irq.js';

/** Name of the abstract device type (QEMU TYPE_DEVICE). */
export const TYPE_DEVICE = 'device';

/** Base class of every device (QEMU DeviceState). */
export abstract class Device extends QObject {
  #realized = false;
  readonly #gpioIn = new Map<string, IrqLine[]>();
  readonly #gpioOut = new Map<string, IrqLine[]>();

  /** True between a successful {@link realize} and {@link unrealize}. */
  get realized(): boolean {
    return this.#realized;
  }

  /**
   * Realizes the device (QEMU qdev_realize): after this its properties are fixed and it is ready to
   * be reset and used.
   * @throws LifecycleError if already realized or finalized; whatever the realize hooks throw.
   */
  realize(): void {
    this.assertLive('realize');
    if (this.#realized) throw new LifecycleError(`${this.toString()} is already realized`);
    this.onRealize();
    this.runTypeHooks('realize', 'rootFirst');
    this.#realized = true;
  }

  /**
   * Unrealizes the device (QEMU qdev_unrealize); its properties can be set again.
   * @throws LifecycleError if not realized.
   */
  unrealize(): void {
    this.assertLive('unrealize');
    if (!this.#realized) throw new LifecycleError(`${this.toString()} cannot be unrealized: it is not realized`);
    try {
      this.runTypeHooks('unrealize', 'leafFirst');
      this.onUnrealize();
    } finally {
      this.#realized = false;
    }
  }

  /**
   * Resets the device to its power-on state (QEMU device_cold_reset): runs `reset()` then the
   * types' `reset` hooks. Boards call this (or {@link resetTree}) at machine reset.
   * @throws LifecycleError if the device is not realized.
   */
  coldReset(): void {
    this.assertLive('reset');
    if (!this.#realized) throw new LifecycleError(`${this.toString()} cannot be reset: it is not realized`);
    this.reset();
    this.runTypeHooks('reset', 'rootFirst');
  }

  /** Unrealizes the device if it is realized, then finalizes it (see {@link QObject.finalize}). */
  override finalize(): void {
    if (!this.finalized && this.#realized) this.unrealize();
    super.finalize();
  }

  /** Realize hook: allocate resources, check property combinations, resolve chardevs. */
  protected onRealize(): void {}
  /** Unrealize hook: release what `onRealize` took. */
  protected onUnrealize(): void {}
  /**
   * Reset hook: put the device in its power-on state and recompute its output lines (QEMU
   * Resettable hold phase).
   */
  protected reset(): void {}

  protected override propertiesFrozenReason(): string | null {
    return this.#realized ? 'the device is realized' : null;
  }

  // ---- GPIO / IRQ lines (QEMU qdev_init_gpio_in/out, qdev_get_gpio_in, qdev_connect_gpio_out) ----

  /**
   * Creates `n` input lines in group `name` (default unnamed) that call `handler(i, level)`, `i`
   * counted from the group's first line (QEMU qdev_init_gpio_in_named). Calling it again for the
   * same group appends lines.
   * @returns the new lines.
   */
  gpioIn(n: number, handler: IrqHandler, name = ''): IrqLine[] {
    this.assertLive('creating GPIO inputs');
    if (!Number.isInteger(n) || n < 0) throw new WiringError(`${this.toString()}: cannot create ${n} GPIO inputs`);
    const group = this.#gpioIn.get(name) ?? [];
    const base = group.length;
    const label = `${this.typeName}.${name === '' ? 'gpio-in' : name}`;
    const lines = Array.from({ length: n }, (_, i) => new IrqLine((level) => handler(base + i, level), `${label}[${base + i}]`));
    group.push(...lines);
    this.#gpioIn.set(name, group);
    return lines;
  }

  /** Input line `n` of group `name` (QEMU qdev_get_gpio_in_named). */
  gpioInLine(n: number, name = ''): IrqLine {
    return this.#line(this.#gpioIn, 'input', n, name);
  }

  /** Number of input lines in group `name`. */
  gpioInCount(name = ''): number {
    return this.#gpioIn.get(name)?.length ?? 0;
  }

  /**
   * Declares output lines the device drives, in group `name` (QEMU qdev_init_gpio_out_named);
   * the board connects them with {@link connectGpioOut}. Appends to an existing group.
   */
  gpioOut(lines: readonly IrqLine[], name = ''): void {
    this.assertLive('declaring GPIO outputs');
    const group = this.#gpioOut.get(name) ?? [];
    group.push(...lines);
    this.#gpioOut.set(name, group);
  }

  /** Output line `n` of group `name`. */
  gpioOutLine(n: number, name = ''): IrqLine {
    return this.#line(this.#gpioOut, 'output', n, name);
  }

  /** Number of output lines in group `name`. */
  gpioOutCount(name = ''): number {
    return this.#gpioOut.get(name)?.length ?? 0;
  }

  /** Connects output line `n` of group `name` to a receiver (QEMU qdev_connect_gpio_out_named). */
  connectGpioOut(n: number, target: IrqLine | IrqLevelHandler, name = ''): void {
    this.gpioOutLine(n, name).connect(target);
  }

  #line(groups: Map<string, IrqLine[]>, kind: string, n: number, name: string): IrqLine {
    this.assertLive(`getting GPIO ${kind} ${n}`);
    const group = groups.get(name);
    const line = group?.[n];
    if (!line || !Number.isInteger(n)) {
      const g = name === '' ? '' : ` '${name}'`;
      throw new WiringError(`${this.toString()} has no GPIO ${kind}${g} ${n} (it has ${group?.length ?? 0})`);
    }
    return line;
  }
}

registerType({ name: TYPE_DEVICE, abstract: true, instance: Device, description: 'base of every device' });

/** Every device in the subtree of `root` (itself included), parents before children. */
export function devicesOf(root: QObject): Device[] {
  const out: Device[] = [];
  const visit = (o: QObject): void => {
    if (o instanceof Device) out.push(o);
    for (const c of o.children.values()) visit(c);
  };
  visit(root);
  return out;
}

/**
 * Realizes every unrealized device in the subtree of `root`, parents first, in the order they were
 * added. A convenience for boards; QEMU boards realize devices one by one.
 */
export function realizeTree(root: QObject): void {
  for (const d of devicesOf(root)) if (!d.realized) d.realize();
}

/**
 * Cold-resets every realized device in the subtree of `root`, children before their parent (QEMU
 * qemu_devices_reset; the hold phase of resettable.c resets children first).
 */
export function resetTree(root: QObject): void {
  for (const d of devicesOf(root).reverse()) if (d.realized) d.coldReset();
}

/** Options of {@link deviceAdd}. */
export interface DeviceAddOptions {
  /** Realize the device after configuring it (default true, as QEMU qdev_device_add). */
  readonly realize?: boolean;
}

/**
 * Creates a device from a `-device` argument (QEMU qdev_device_add): checks the driver is a
 * concrete device type, sets the properties (parsed from strings), places the device at
 * `/machine/peripheral/<id>` (or `peripheral-anon`), and realizes it unless told not to.
 * Wiring (MMIO mapping, IRQs, buses) stays the board's job.
 * @throws OptionParseError, QomTypeError, PropertyError or what realize throws; on error the
 *   device is finalized and removed.
 */
export function deviceAdd(machine: MachineRoot, option: string | DeviceOption, opts: DeviceAddOptions = {}): Device {
  const o = typeof option === 'string' ? parseDeviceOption(option) : option;
  if (!typeExists(o.driver)) {
    // createObject gives the "did you mean" error text
    createObject(o.driver);
  }
  if (!isSubtype(o.driver, TYPE_DEVICE)) throw new QomTypeError(`'${o.driver}' is not a device type`);
  if (o.id !== undefined && machine.peripheral.child(o.id)) {
    throw new OptionParseError(`duplicate device id '${o.id}'`);
  }
  const dev = createObject<Device>(o.driver, o.props);
  try {
    machine.addPeripheral(dev, o.id);
    if (opts.realize !== false) dev.realize();
  } catch (e) {
    dev.finalize();
    throw e;
  }
  return dev;
}
