/**
 * RISC-V ACLINT: the machine-level software interrupt device (MSWI) and the machine timer (MTIMER),
 * together the SiFive CLINT of the virt board (QEMU 7.2 hw/intc/riscv_aclint.c).
 *
 * MTIMER contract (type `riscv.aclint.mtimer`):
 * - One MMIO region of `apertureSize` bytes (virt: 0x8000 at 0x0200_4000), little-endian, 4- and
 *   8-byte accesses. `mtimecmp[i]` at `timecmpBase + 8*i`, `mtime` at `timeBase` (virt: 0x7ff8).
 * - `mtime` = virtual clock × `timebaseFreq` / 1e9 (10 MHz: ns / 100) + an offset that writes to `mtime`
 *   adjust; values wrap at 2^64. {@link RiscvAclintMtimer.getTime} gives it to the CPU's `time` CSR.
 * - Output `i` (unnamed GPIO group, one per hart) is MTIP of hart `hartidBase + i`: writing `mtimecmp`
 *   raises it at once if `mtimecmp <= mtime`, else lowers it and arms a virtual-clock timer for the
 *   moment `mtime` reaches `mtimecmp` (QEMU riscv_aclint_mtimer_write_timecmp). Writing `mtime`
 *   re-evaluates every hart.
 * - Reset (the board calls it after wiring, as QEMU's machine reset): `mtime` is set to 0 and every
 *   hart re-evaluated; `mtimecmp` keeps its value (0 after realize), so MTIP is pending after reset.
 *
 * MSWI contract (type `riscv.aclint.swi`):
 * - One MMIO region of 0x4000 bytes, 4-byte accesses; `msip[i]` at `4*i`. Bit 0 written 1 raises
 *   output `i` (MSIP of hart `hartidBase + i`), 0 lowers it; reads give the current level. With
 *   `sswi` (the S-mode SSWI variant) a write of 0 does nothing and reads give 0. Reset lowers every MSIP.
 * @module
 */
import { IrqLine } from '../core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop } from '../../qom/index.js';
import { MemoryRegion, type AccessSize } from '../../memory/index.js';
import type { MainLoop } from '../../util/main-loop.js';
import type { QemuClock } from '../../util/clock.js';
import type { QemuTimer } from '../../util/timer.js';
import { Logger } from '../../util/log.js';
import { LifecycleError, PropertyError } from '../../util/errors.js';
import { VmStateError, type VmJson, type VmStateDescription, type VmStateField } from '../../migration/vmstate.js';

/** QOM type names (QEMU TYPE_RISCV_ACLINT_MTIMER, TYPE_RISCV_ACLINT_SWI). */
export const TYPE_RISCV_ACLINT_MTIMER = 'riscv.aclint.mtimer';
export const TYPE_RISCV_ACLINT_SWI = 'riscv.aclint.swi';

/** Defaults of QEMU include/hw/intc/riscv_aclint.h. */
export const RISCV_ACLINT_MAX_HARTS = 4095;
export const RISCV_ACLINT_SWI_SIZE = 0x4000;
export const RISCV_ACLINT_DEFAULT_MTIMER_SIZE = 0x8000;
export const RISCV_ACLINT_DEFAULT_MTIMECMP = 0x0;
export const RISCV_ACLINT_DEFAULT_MTIME = 0x7ff8;
export const RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ = 10_000_000;

const NS_PER_SECOND = 1_000_000_000;
const NS_PER_SECOND_BIG = 1_000_000_000n;
const U64 = (1n << 64n) - 1n;
const LO32 = 0xffff_ffffn;

/**
 * What the ACLINT devices need from their machine. The board passes its machine context (any object
 * with these fields) through `setMachineContext` before realizing the device.
 */
export interface AclintMachineContext {
  /** Owner of the virtual clock that `mtime` follows (MTIMER only). */
  readonly mainLoop?: MainLoop;
  /** Where guest errors and unimplemented accesses go (default: discarded). */
  readonly log?: Logger;
}

function toBig(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v & U64 : BigInt(v >>> 0);
}

function checkHarts(dev: SysBusDevice, numHarts: number): void {
  if (numHarts < 1 || numHarts > RISCV_ACLINT_MAX_HARTS) {
    throw new PropertyError(`${dev.typeName}.numHarts must be 1..${RISCV_ACLINT_MAX_HARTS}, got ${numHarts}`, dev.typeName, 'numHarts');
  }
}

/** Makes the per-hart output lines once; a later realize must keep the same count. */
function perHartLines(dev: SysBusDevice, existing: IrqLine[], n: number, what: string): IrqLine[] {
  if (existing.length === 0) {
    const lines = Array.from({ length: n }, (_, i) => new IrqLine(undefined, `${dev.typeName}.${what}[${i}]`));
    dev.gpioOut(lines);
    return lines;
  }
  if (existing.length !== n) {
    throw new LifecycleError(`${dev.toString()}: numHarts changed from ${existing.length} to ${n} after the first realize`);
  }
  return existing;
}

/**
 * A snapshot field holding the levels of output lines (QEMU keeps them in the CPU's mip; here the
 * line objects remember their level too): loading sets each line, which re-drives its receiver.
 */
function lineLevels<T>(name: string, lines: (dev: T) => readonly IrqLine[]): VmStateField<T> {
  return {
    name, kind: 'custom',
    save: (dev) => lines(dev).map((l) => l.level),
    load: (dev, v: VmJson) => {
      const ls = lines(dev);
      if (!Array.isArray(v) || v.length !== ls.length || !v.every((x) => typeof x === 'boolean')) {
        throw new VmStateError(`${name}: expected ${ls.length} line levels (booleans), got ${JSON.stringify(v)}`);
      }
      ls.forEach((l, i) => l.set(v[i] as boolean));
    },
  };
}

/** ACLINT machine timer: `mtime`, per-hart `mtimecmp`, per-hart MTIP outputs. */
export class RiscvAclintMtimer extends SysBusDevice {
  /** Snapshot state (QEMU vmstate_riscv_mtimer: timecmp, time_delta, the timers; MTIP levels). */
  static readonly vmstate: VmStateDescription<RiscvAclintMtimer> = {
    name: TYPE_RISCV_ACLINT_MTIMER, version: 1,
    fields: [
      { name: 'timecmp', kind: 'u64', array: true },
      { name: 'timeDelta', kind: 'u64' },
      { name: 'timers', kind: 'timer', array: true, get: (s) => s.#timers },
      lineLevels('mtip', (s: RiscvAclintMtimer) => s.#mtip),
    ],
  };

  /** First hart id served (QOM property `hartid-base`). */
  declare readonly hartidBase: number;
  /** Number of harts (QOM property `num-harts`). */
  declare readonly numHarts: number;
  /** Offset of `mtimecmp[0]` (QOM property `timecmp-base`). */
  declare readonly timecmpBase: number;
  /** Offset of `mtime` (QOM property `time-base`). */
  declare readonly timeBase: number;
  /** Size of the MMIO region (QOM property `aperture-size`). */
  declare readonly apertureSize: number;
  /** `mtime` ticks per second (QOM property `timebase-freq`). */
  declare readonly timebaseFreq: number;

  #ctx: AclintMachineContext | null = null;
  #log = new Logger();
  #clock: QemuClock | null = null;
  #region: MemoryRegion | null = null;
  #mtip: IrqLine[] = [];
  #timers: QemuTimer<number>[] = [];
  /** ns per tick when that is an integer (fast exact path), else 0. */
  #nsPerTick = 0;
  private timecmp: bigint[] = [];
  /** `mtime` minus the raw clock-derived count, mod 2^64 (QEMU time_delta). */
  private timeDelta = 0n;

  /** Gives the device its machine's virtual clock and log. Call before {@link realize}. */
  setMachineContext(ctx: AclintMachineContext): void {
    this.assertLive('setting the machine context');
    if (this.realized) throw new LifecycleError(`${this.toString()}: the machine context must be set before realize`);
    this.#ctx = ctx;
  }

  /** The MMIO region; exists once realized. */
  get region(): MemoryRegion {
    if (!this.#region) throw new LifecycleError(`${this.toString()} has no MMIO region before it is realized`);
    return this.#region;
  }

  /** MTIP output of each hart (index `hartid - hartidBase`); exist once realized. */
  get mtip(): readonly IrqLine[] {
    return this.#mtip;
  }

  protected override onRealize(): void {
    const loop = this.#ctx?.mainLoop;
    if (!loop) throw new LifecycleError(`${this.toString()}: no machine context with a mainLoop; call setMachineContext({ mainLoop, log }) before realize`);
    checkHarts(this, this.numHarts);
    if (this.timebaseFreq === 0) throw new PropertyError(`${this.typeName}.timebaseFreq must be > 0`, this.typeName, 'timebaseFreq');
    if (this.timecmpBase % 8 !== 0 || this.timeBase % 8 !== 0) {
      throw new PropertyError(`${this.typeName}: timecmpBase (0x${this.timecmpBase.toString(16)}) and timeBase (0x${this.timeBase.toString(16)}) must be 8-byte aligned`, this.typeName, 'timeBase');
    }
    this.#log = this.#ctx?.log ?? new Logger();
    this.#clock = loop.virtual;
    this.#nsPerTick = NS_PER_SECOND % this.timebaseFreq === 0 ? NS_PER_SECOND / this.timebaseFreq : 0;
    if (!this.#region) {
      this.#region = MemoryRegion.io(this, TYPE_RISCV_ACLINT_MTIMER, this.apertureSize, {
        read: (addr, size) => this.read(addr, size),
        write: (addr, value, size) => this.write(addr, value, size),
        endianness: 'little',
        valid: { min: 4, max: 8 },
        impl: { min: 4, max: 8 },
      });
      this.initMmio(this.#region);
    } else {
      this.#region.setSize(this.apertureSize);
    }
    this.#mtip = perHartLines(this, this.#mtip, this.numHarts, 'mtip');
    this.#timers = this.#mtip.map((_, i) => loop.timerNew('virtual', (hart: number) => this.#mtip[hart]!.raise(), i));
    this.timecmp = this.#mtip.map(() => 0n);
    this.timeDelta = 0n;
  }

  protected override onUnrealize(): void {
    for (const t of this.#timers) t.del();
    this.#timers = [];
  }

  /** ACLINT spec: MTIMER reset clears `mtime`; `mtimecmp` is unchanged (QEMU riscv_aclint_mtimer_reset_enter). */
  protected override reset(): void {
    this.write(this.timeBase, 0n, 8);
  }

  /** Current `mtime` (the value of the CPU's `time` CSR): QEMU cpu_riscv_read_rtc. */
  getTime(): bigint {
    return (this.rtcRaw() + this.timeDelta) & U64;
  }

  /** `mtimecmp` of hart `hartidBase + i`. */
  getTimecmp(i: number): bigint {
    return this.timecmp[i] ?? 0n;
  }

  /** Clock ticks since virtual time 0, before the offset (QEMU cpu_riscv_read_rtc_raw). */
  private rtcRaw(): bigint {
    const ns = this.#clock!.now();
    const div = this.#nsPerTick;
    if (div > 0) {
      let q = Math.floor(ns / div);
      if (q * div > ns) q--; // the float division may round up near 2^53
      return BigInt(q);
    }
    return (BigInt(ns) * BigInt(this.timebaseFreq)) / NS_PER_SECOND_BIG;
  }

  /** QEMU riscv_aclint_mtimer_write_timecmp: raise now, or lower and arm the timer. */
  private writeTimecmp(i: number, value: bigint): void {
    const rtc = this.getTime();
    this.timecmp[i] = value;
    const line = this.#mtip[i]!;
    if (value <= rtc) {
      this.#timers[i]!.del(); // QEMU leaves it armed; firing later would only raise the raised line
      line.raise();
      return;
    }
    line.lower();
    const diff = value - rtc;
    const nsDiff = (diff * NS_PER_SECOND_BIG) / BigInt(this.timebaseFreq);
    const next = BigInt(this.#clock!.now()) + nsDiff;
    const timer = this.#timers[i]!;
    // QEMU clamps to INT64_MAX ns (292 years): beyond 2^53 ns the timer can never fire in practice.
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) timer.del();
    else timer.modNs(Number(next));
  }

  private hartOf(addr: number): number {
    return (addr - this.timecmpBase) >> 3;
  }

  private inTimecmp(addr: number): boolean {
    return addr >= this.timecmpBase && addr < this.timecmpBase + this.numHarts * 8;
  }

  /** QEMU riscv_aclint_mtimer_read. */
  private read(addr: number, size: AccessSize): number | bigint {
    if (this.inTimecmp(addr)) {
      const cmp = this.timecmp[this.hartOf(addr)]!;
      if ((addr & 7) === 0) return size === 4 ? Number(cmp & LO32) : cmp; // timecmp_lo, or timecmp on RV64
      if ((addr & 7) === 4) return Number((cmp >> 32n) & LO32); // timecmp_hi
    } else if (addr === this.timeBase) {
      const rtc = this.getTime();
      return size === 4 ? Number(rtc & LO32) : rtc; // time_lo, or time on RV64
    } else if (addr === this.timeBase + 4) {
      return Number((this.getTime() >> 32n) & LO32); // time_hi
    }
    this.#log.unimp(`aclint-mtimer: invalid read: ${addr.toString(16).padStart(8, '0')}`);
    return 0;
  }

  /** QEMU riscv_aclint_mtimer_write. */
  private write(addr: number, value: number | bigint, size: AccessSize): void {
    const v = toBig(value);
    if (this.inTimecmp(addr)) {
      const i = this.hartOf(addr);
      const cmp = this.timecmp[i]!;
      if ((addr & 7) === 0) {
        this.writeTimecmp(i, size === 4 ? (cmp & ~LO32 & U64) | (v & LO32) : v);
      } else if ((addr & 7) === 4) {
        if (size === 4) this.writeTimecmp(i, ((v << 32n) | (cmp & LO32)) & U64);
        else this.#log.guestError(`aclint-mtimer: invalid timecmp_hi write: ${addr.toString(16).padStart(8, '0')}`);
      } else {
        this.#log.unimp(`aclint-mtimer: invalid timecmp write: ${addr.toString(16).padStart(8, '0')}`);
      }
      return;
    }
    if (addr === this.timeBase || addr === this.timeBase + 4) {
      const raw = this.rtcRaw();
      const rtc = this.getTime();
      let mtime: bigint;
      if (addr === this.timeBase) {
        mtime = size === 4 ? (rtc & ~LO32 & U64) | (v & LO32) : v;
      } else if (size === 4) {
        mtime = ((v << 32n) | (rtc & LO32)) & U64;
      } else {
        this.#log.guestError(`aclint-mtimer: invalid time_hi write: ${addr.toString(16).padStart(8, '0')}`);
        return;
      }
      this.timeDelta = (mtime - raw) & U64;
      // A new mtime may pass or un-pass each hart's compare value.
      for (let i = 0; i < this.numHarts; i++) this.writeTimecmp(i, this.timecmp[i]!);
      return;
    }
    this.#log.unimp(`aclint-mtimer: invalid write: ${addr.toString(16).padStart(8, '0')}`);
  }
}

/** ACLINT software interrupts (MSWI, or SSWI with `sswi`): per-hart MSIP outputs. */
export class RiscvAclintSwi extends SysBusDevice {
  /** Snapshot state: the MSIP levels are the device's only state (QEMU keeps them in mip). */
  static readonly vmstate: VmStateDescription<RiscvAclintSwi> = {
    name: TYPE_RISCV_ACLINT_SWI, version: 1,
    fields: [lineLevels('msip', (s: RiscvAclintSwi) => s.#msip)],
  };

  /** First hart id served (QOM property `hartid-base`). */
  declare readonly hartidBase: number;
  /** Number of harts (QOM property `num-harts`). */
  declare readonly numHarts: number;
  /** S-mode variant: writes of 1 only, reads 0 (QOM property `sswi`). */
  declare readonly sswi: boolean;

  #log = new Logger();
  #region: MemoryRegion | null = null;
  #msip: IrqLine[] = [];

  /** Gives the device its machine's log. */
  setMachineContext(ctx: AclintMachineContext): void {
    this.#log = ctx.log ?? new Logger();
  }

  /** The MMIO region (0x4000 bytes); exists once realized. */
  get region(): MemoryRegion {
    if (!this.#region) throw new LifecycleError(`${this.toString()} has no MMIO region before it is realized`);
    return this.#region;
  }

  /** MSIP (or SSIP) output of each hart (index `hartid - hartidBase`); exist once realized. */
  get msip(): readonly IrqLine[] {
    return this.#msip;
  }

  protected override onRealize(): void {
    checkHarts(this, this.numHarts);
    if (!this.#region) {
      this.#region = MemoryRegion.io(this, TYPE_RISCV_ACLINT_SWI, RISCV_ACLINT_SWI_SIZE, {
        read: (addr) => this.read(addr),
        write: (addr, value) => this.write(addr, value),
        endianness: 'little',
        valid: { min: 4, max: 4 },
      });
      this.initMmio(this.#region);
    }
    this.#msip = perHartLines(this, this.#msip, this.numHarts, this.sswi ? 'ssip' : 'msip');
  }

  /** ACLINT spec: MSWI reset clears every MSIP; SSWI reset does nothing (QEMU riscv_aclint_swi_reset_enter). */
  protected override reset(): void {
    if (!this.sswi) for (const l of this.#msip) l.lower();
  }

  /** QEMU riscv_aclint_swi_read (the level of MSIP is what the CPU's mip.MSIP shows). */
  private read(addr: number): number {
    if (addr < this.numHarts * 4 && (addr & 3) === 0) {
      return this.sswi ? 0 : this.#msip[addr >> 2]!.level ? 1 : 0;
    }
    this.#log.unimp(`aclint-swi: invalid read: ${addr.toString(16).padStart(8, '0')}`);
    return 0;
  }

  /** QEMU riscv_aclint_swi_write. */
  private write(addr: number, value: number | bigint): void {
    if (addr < this.numHarts * 4 && (addr & 3) === 0) {
      const line = this.#msip[addr >> 2]!;
      if (Number(toBig(value) & 1n)) line.raise();
      else if (!this.sswi) line.lower();
      return;
    }
    this.#log.unimp(`aclint-swi: invalid write: ${addr.toString(16).padStart(8, '0')}`);
  }
}

defineType({
  name: TYPE_RISCV_ACLINT_MTIMER,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: RiscvAclintMtimer,
  description: 'RISC-V ACLINT machine timer (mtime, mtimecmp, MTIP)',
  properties: {
    hartidBase: prop.u32(0, { description: 'first hart id' }),
    numHarts: prop.u32(1, { description: 'number of harts' }),
    timecmpBase: prop.u32(RISCV_ACLINT_DEFAULT_MTIMECMP, { description: 'offset of mtimecmp[0]' }),
    timeBase: prop.u32(RISCV_ACLINT_DEFAULT_MTIME, { description: 'offset of mtime' }),
    apertureSize: prop.u32(RISCV_ACLINT_DEFAULT_MTIMER_SIZE, { description: 'size of the MMIO region' }),
    timebaseFreq: prop.u32(RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ, { description: 'mtime frequency in Hz' }),
  },
});

defineType({
  name: TYPE_RISCV_ACLINT_SWI,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: RiscvAclintSwi,
  description: 'RISC-V ACLINT software interrupts (MSWI, or SSWI)',
  properties: {
    hartidBase: prop.u32(0, { description: 'first hart id' }),
    numHarts: prop.u32(1, { description: 'number of harts' }),
    sswi: prop.bool(false, { description: 'S-mode SSWI variant instead of MSWI' }),
  },
});
