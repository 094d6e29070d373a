/**
 * Peripheral stub: a stand-in for a device that is not modelled, to bring firmware up on a board
 * before its peripherals exist (after QEMU hw/misc/unimp.c TYPE_UNIMPLEMENTED_DEVICE, plus the register
 * file and access log that firmware tests want).
 *
 * Contract:
 * - One MMIO region of `size` bytes (sysbus region 0); accesses of 1, 2, 4 or 8 bytes, aligned.
 * - Optional registers at given offsets, each `width` bytes (default 4): a stored value, set to `reset`
 *   at every machine reset; a read returns it (or what `read` computes), a write stores the value
 *   (or what `write` returns; `readonly` registers ignore writes and log a guest error). An access
 *   to part of a register reads or merges those bytes (little-endian).
 * - Offsets without a register read as 0 and ignore writes, logged under `-d unimp` as QEMU's
 *   unimplemented-device does; `onRead` may supply a value for any read, `onWrite` sees every write.
 * - Every access is recorded in {@link PeripheralStub.accesses} with the guest pc of the instruction
 *   and the machine's instruction count when the machine provides them.
 * - No IRQ, no clock.
 * @module
 */
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType } from '../../qom/type.js';
import type { QObject } from '../../qom/object.js';
import { MemoryRegion } from '../../memory/region.js';
import type { AccessSize } from '../../memory/ops.js';
import { Logger } from '../../util/log.js';
import { SoftboardError } from '../../util/errors.js';

/** QOM type name. */
export const TYPE_PERIPHERAL_STUB = 'peripheral-stub';

/** A bad stub description (overlapping registers, register outside the region, bad size). */
export class PeripheralStubError extends SoftboardError {
  override name = 'PeripheralStubError';
}

/** One access seen by a stub. */
export interface StubAccess {
  readonly kind: 'read' | 'write';
  /** Offset in the stub's region. */
  readonly offset: number;
  /** Access size in bytes. */
  readonly size: number;
  /** The value read (after `read`/`onRead`) or written. */
  readonly value: bigint;
  /** Guest pc of the instruction that made the access, when the machine knows it. */
  readonly pc?: bigint;
  /** Guest instructions executed by the machine when the access happened (0 without a machine). */
  readonly icount: number;
}

/** One register of a stub. */
export interface StubRegister {
  /** Name, for messages. */
  readonly name?: string;
  /** Width in bytes: 1, 2, 4 (default) or 8. */
  readonly width?: 1 | 2 | 4 | 8;
  /** Value at reset (default 0). */
  readonly reset?: number | bigint;
  /** Computes the value a read returns from the stored one (e.g. a status register that is always ready). */
  readonly read?: (stored: bigint) => number | bigint;
  /** Computes the value stored by a write (whole register, after merging a partial write); default: the value. */
  readonly write?: (value: bigint, stored: bigint) => number | bigint | void;
  /** Writes are ignored (and logged as guest errors). */
  readonly readonly?: boolean;
}

/** Description of a stub (see {@link peripheralStub}). */
export interface PeripheralStubOptions {
  /** Name of the stub: its QOM child name and its memory region's name. */
  readonly name: string;
  /** Guest physical address where {@link mapPeripheralStub} maps it. */
  readonly base: bigint | number;
  /** Size of the region in bytes. */
  readonly size: bigint | number;
  /** Registers by offset (`{ 0x0: { reset: 1 }, 0x4: { readonly: true } }`). */
  readonly registers?: Readonly<Record<number, StubRegister>>;
  /** Called on every read; a returned number/bigint replaces the value read. */
  readonly onRead?: (access: { readonly offset: number; readonly size: number; readonly value: bigint }) => number | bigint | void;
  /** Called after every write. */
  readonly onWrite?: (access: { readonly offset: number; readonly size: number; readonly value: bigint }) => void;
  /** At most this many accesses are kept in {@link PeripheralStub.accesses}, the oldest dropped (default 100000). */
  readonly maxAccesses?: number;
  /** Memory priority when mapped over another region (default 0: overlapping is an error). */
  readonly priority?: number;
}

/** What a stub reads from its machine (any {@link Machine} satisfies it). */
export interface PeripheralStubContext {
  readonly log?: Logger;
  /** Guest instructions executed so far (exact during a run). */
  readonly instructions?: number;
  /** pc of the instruction making the current access, if a CPU is running. */
  currentInsnPc?(): bigint | undefined;
}

interface Reg {
  readonly offset: number;
  readonly width: number;
  readonly spec: StubRegister;
  value: bigint;
}

const U64 = (1n << 64n) - 1n;

/** A peripheral stub device; make one with {@link peripheralStub} or {@link mapPeripheralStub}. */
export class PeripheralStub extends SysBusDevice {
  /** Accesses, oldest first (see {@link StubAccess}). */
  readonly accesses: StubAccess[] = [];
  /** The MMIO region. */
  readonly region: MemoryRegion;
  /** The description the stub was made from. */
  readonly options: PeripheralStubOptions;
  readonly #regs: Reg[] = [];
  #ctx: PeripheralStubContext = {};
  #log = new Logger();

  /** @throws PeripheralStubError for a bad description. Construct through {@link peripheralStub}. */
  constructor(options?: PeripheralStubOptions) {
    super();
    if (!options) throw new PeripheralStubError(`a ${TYPE_PERIPHERAL_STUB} is made with peripheralStub({ name, base, size, registers })`);
    this.options = options;
    const size = BigInt(options.size);
    if (size <= 0n || size > 1n << 32n) throw new PeripheralStubError(`stub '${options.name}': size must be 1..4G bytes, got ${options.size}`);
    for (const [key, spec] of Object.entries(options.registers ?? {})) {
      const offset = Number(key);
      const width = spec.width ?? 4;
      const what = `stub '${options.name}' register ${spec.name ?? ''}${spec.name ? ' ' : ''}at offset ${key}`;
      if (!Number.isInteger(offset) || offset < 0) throw new PeripheralStubError(`${what}: the offset must be a non-negative integer`);
      if (![1, 2, 4, 8].includes(width)) throw new PeripheralStubError(`${what}: width must be 1, 2, 4 or 8, got ${String(width)}`);
      if (BigInt(offset + width) > size) throw new PeripheralStubError(`${what}: ${width} bytes do not fit in the 0x${size.toString(16)}-byte region`);
      const clash = this.#regs.find((r) => offset < r.offset + r.width && r.offset < offset + width);
      if (clash) throw new PeripheralStubError(`${what} overlaps the register at offset 0x${clash.offset.toString(16)}`);
      this.#regs.push({ offset, width, spec, value: resetValue(spec, width) });
    }
    this.#regs.sort((a, b) => a.offset - b.offset);
    this.region = MemoryRegion.io(this, options.name, size, {
      read: (addr, sz) => {
        const v = this.mmioRead(addr, sz);
        return sz === 8 ? v : Number(v);
      },
      write: (addr, value, sz) => this.mmioWrite(addr, BigInt.asUintN(64, BigInt(value)), sz),
      endianness: 'little',
      valid: { min: 1, max: 8 },
      impl: { min: 1, max: 8 },
    });
  }

  protected override onInit(): void {
    this.initMmio(this.region);
  }

  /** Gives the stub its machine's logger, instruction count and pc (for the access log). */
  setMachineContext(ctx: PeripheralStubContext): void {
    this.#ctx = ctx;
    this.#log = ctx.log ?? new Logger();
  }

  protected override reset(): void {
    for (const r of this.#regs) r.value = resetValue(r.spec, r.width);
  }

  /** The stored value of the register at `offset`. @throws PeripheralStubError if there is none. */
  register(offset: number): bigint {
    return this.#reg(offset).value;
  }

  /** Sets the stored value of the register at `offset` (as the modelled hardware would). */
  setRegister(offset: number, value: number | bigint): void {
    const r = this.#reg(offset);
    r.value = BigInt.asUintN(r.width * 8, BigInt(value));
  }

  /** The recorded reads, or writes, optionally at one offset. */
  reads(offset?: number): StubAccess[] {
    return this.accesses.filter((a) => a.kind === 'read' && (offset === undefined || a.offset === offset));
  }
  writes(offset?: number): StubAccess[] {
    return this.accesses.filter((a) => a.kind === 'write' && (offset === undefined || a.offset === offset));
  }

  /** Forgets the recorded accesses. */
  clearAccesses(): void {
    this.accesses.length = 0;
  }

  #reg(offset: number): Reg {
    const r = this.#regs.find((x) => x.offset === offset);
    if (!r) throw new PeripheralStubError(`stub '${this.options.name}' has no register at offset 0x${offset.toString(16)}`);
    return r;
  }

  #regAt(offset: number, size: number): Reg | undefined {
    return this.#regs.find((r) => offset >= r.offset && offset + size <= r.offset + r.width);
  }

  private mmioRead(addr: number, size: AccessSize): bigint {
    const r = this.#regAt(addr, size);
    const mask = (1n << BigInt(size * 8)) - 1n;
    let value = 0n;
    if (r) {
      const full = r.spec.read ? BigInt.asUintN(r.width * 8, BigInt(r.spec.read(r.value))) : r.value;
      value = (full >> BigInt((addr - r.offset) * 8)) & mask;
    } else {
      this.#log.unimp(() => `${this.options.name}: unimplemented device read (size ${size}, offset 0x${addr.toString(16)})`);
    }
    const o = this.options.onRead?.({ offset: addr, size, value });
    if (o !== undefined) value = BigInt(o) & mask;
    this.#record('read', addr, size, value);
    return value;
  }

  private mmioWrite(addr: number, value: bigint, size: AccessSize): void {
    const r = this.#regAt(addr, size);
    value &= (1n << BigInt(size * 8)) - 1n;
    this.#record('write', addr, size, value);
    if (r) {
      const name = r.spec.name ?? `0x${r.offset.toString(16)}`;
      if (r.spec.readonly) {
        this.#log.guestError(() => `${this.options.name}: write of 0x${value.toString(16)} to read-only register ${name} ignored`);
      } else {
        const shift = BigInt((addr - r.offset) * 8);
        const mask = ((1n << BigInt(size * 8)) - 1n) << shift;
        const merged = (r.value & ~mask & U64) | (value << shift);
        const w = r.spec.write?.(merged, r.value);
        r.value = BigInt.asUintN(r.width * 8, w === undefined ? merged : BigInt(w));
      }
    } else {
      this.#log.unimp(() => `${this.options.name}: unimplemented device write (size ${size}, offset 0x${addr.toString(16)}, value 0x${value.toString(16)})`);
    }
    this.options.onWrite?.({ offset: addr, size, value });
  }

  #record(kind: 'read' | 'write', offset: number, size: number, value: bigint): void {
    const pc = this.#ctx.currentInsnPc?.();
    const a: StubAccess = { kind, offset, size, value, ...(pc !== undefined ? { pc } : {}), icount: this.#ctx.instructions ?? 0 };
    const max = this.options.maxAccesses ?? 100_000;
    if (this.accesses.length >= max) this.accesses.splice(0, this.accesses.length - max + 1);
    if (max > 0) this.accesses.push(a);
  }
}

function resetValue(spec: StubRegister, width: number): bigint {
  return BigInt.asUintN(width * 8, BigInt(spec.reset ?? 0));
}

defineType({
  name: TYPE_PERIPHERAL_STUB,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: PeripheralStub,
  description: 'stand-in for an unmodelled peripheral: registers, access log (as QEMU unimplemented-device)',
});

/** Creates an unrealized, unmapped stub (map it with {@link mapPeripheralStub} or a board). */
export function peripheralStub(options: PeripheralStubOptions): PeripheralStub {
  return new PeripheralStub(options);
}

/** What {@link mapPeripheralStub} needs of a machine (a {@link Machine} satisfies it). */
export interface PeripheralStubHost extends PeripheralStubContext {
  readonly sysmem: MemoryRegion;
  addObject(path: string, obj: QObject): string;
}

/**
 * Creates a stub, places it at `/machine/stubs/<name>`, realizes it and maps it at `base` in system
 * memory. @throws PeripheralStubError if it overlaps a region mapped at the same priority.
 */
export function mapPeripheralStub(machine: PeripheralStubHost, options: PeripheralStubOptions): PeripheralStub {
  const stub = peripheralStub(options);
  const base = BigInt(options.base);
  const end = base + BigInt(options.size);
  const prio = options.priority ?? 0;
  for (const sub of machine.sysmem.subregions) {
    if (sub.priority === prio && base < sub.addr + sub.size && sub.addr < end) {
      throw new PeripheralStubError(
        `stub '${options.name}' at 0x${base.toString(16)}-0x${(end - 1n).toString(16)} overlaps '${sub.name}' at ` +
        `0x${sub.addr.toString(16)}-0x${(sub.addr + sub.size - 1n).toString(16)} (give the stub a higher priority to cover it)`);
    }
  }
  stub.setMachineContext(machine);
  machine.addObject(`/machine/stubs/${options.name}`, stub);
  stub.realize();
  machine.sysmem.addSubregion(base, stub.region, prio);
  stub.mmioMap(0, base);
  stub.coldReset();
  return stub;
}
