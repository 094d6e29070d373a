/**
 * Declarative boards: a board is data — its CPUs, its memory map, its devices and where their IRQs
 * go — and {@link defineBoard} turns that into a factory of machines (the job QEMU's per-board
 * `machine_init` functions do by hand, e.g. hw/riscv/sifive_e.c or hw/riscv/virt.c).
 *
 * ```ts
 * const createMyBoard = defineBoard({
 *   name: 'my-board',
 *   cpu: { arch: 'riscv32' },
 *   memory: [{ name: 'flash', kind: 'rom', base: 0x2000_0000, size: '4M' },
 *            { name: 'sram', kind: 'ram', base: 0x8000_0000, size: '64K' }],
 *   clint: { base: 0x0200_0000 },
 *   interruptController: { base: 0x0c00_0000, sources: 32 },
 *   devices: [
 *     { type: 'ns16550a', id: 'uart0', at: 0x1000_0000, irq: 10, props: { chardev: 'serial0' } },
 *     { type: 'my-gpio', id: 'gpio', at: 0x1001_2000, irq: 3 },
 *   ],
 * });
 * const m = createMyBoard({ firmware: elfBytes });
 * ```
 *
 * What a built machine ({@link BoardMachine}) has:
 * - harts (`RiscvCpu`, QOM `/machine/soc/hart<i>`) that start at `cpu.resetVector`, else the firmware
 *   ELF's entry, else the first memory region, with a0 = hart id and a1 = the FDT address (0 without
 *   one), as QEMU's boot stub hands them over;
 * - the memory regions (RAM or ROM) at their bases;
 * - with `clint`, an ACLINT MSWI + MTIMER pair wired to every hart's MSIP/MTIP and `time` CSR, as on
 *   virt; without it `time` counts the virtual clock at `cpu.timebaseFreq`;
 * - with `interruptController`, a SiFive PLIC with an M and an S context per hart (virt's layout);
 *   device IRQ `n` goes to PLIC source `n` (1..sources-1). Without one, device IRQ `n` goes straight to
 *   hart `n`'s machine external interrupt (MEIP). Outputs sharing one input are ORed;
 * - every device: created from its QOM type with `props` (any `setMachineContext` method is given the
 *   machine), placed at `/machine/soc/<id>` (or its `path`), realized, its MMIO regions mapped at `at`,
 *   its sysbus IRQ outputs wired to `irq`. A `riscv.sifive.test` device powers off / resets the machine;
 * - every IRQ line (device outputs, hart inputs) reported as the machine's `irq` events while listened;
 * - chardevs: every `chardev: '<id>'` property names one; the ones not given in the options are
 *   {@link BufferChardev}s; the first is {@link Machine.serial};
 * - peripheral stubs (`stubs`) mapped as {@link Machine.addPeripheralStub} does;
 * - with `fdt` (default true), a device tree (memory, cpus, clint, plic, one node per device from the
 *   device's `fdt` entry, its type's class data `fdt`, or a built-in table) placed at the top of the
 *   first RAM region, which a function `fdt` may then edit or replace;
 * - with `boot`, the board's own boot instead of the default one (firmware, FDT at the top of RAM, a0/a1).
 *
 * The RISC-V `virt` board is one of these descriptions (src/hw/riscv/virt.ts `virtBoardSpec`), with
 * an `fdt` hook returning QEMU's exact tree and a `boot` hook writing QEMU's boot ROM.
 *
 * Checks: {@link defineBoard} validates what it can without building (names, sizes, addresses within
 * the CPU's physical address space, overlaps between memory, CLINT, PLIC and stubs, device types with
 * suggestions, property values through QOM's {@link PropertyError}, IRQ numbers, the number of `at`
 * addresses); the factory checks what needs a built device (the size of its regions: overlaps naming
 * both ranges) and the images. Errors are {@link BoardError}s (or the QOM PropertyError/QomTypeError).
 *
 * Not modelled here: buses other than the system bus (I2C, SPI devices hang off a controller device
 * the board declares, as in examples/custom-board), PCI, multiple clusters.
 * @module
 */
import { Machine, MachineError, type MachineCpu } from '../../machine/machine.js';
import { BufferChardev } from '../../chardev/char-buffer.js';
import type { Chardev } from '../../chardev/char.js';
import { MemoryRegion } from '../../memory/region.js';
import { createObject, type QObject } from '../../qom/object.js';
import { isSubtype, listTypes, objectClassByName, typeExists } from '../../qom/type.js';
import { didYouMean } from '../../qom/suggest.js';
import { PropertyError } from '../../util/errors.js';
import type { Logger, LoggerOptions } from '../../util/log.js';
import type { MainLoopOptions } from '../../util/main-loop.js';
import { parseSize } from '../../util/size.js';
import type { QemuTimer } from '../../util/timer.js';
import type { TraceTarget, TraceTlbFill } from '../../util/trace.js';
import type { Backend } from '../../tcg/backend/backend.js';
import type { TcgBackendName } from './cpu.js';
import { Fdt, type FdtNode } from './fdt.js';
import { irqOr, IrqLine, type IrqLevelHandler } from './irq.js';
import { EM_RISCV, loadElf, parseElf, type ElfImage } from './loader.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from './sysbus.js';
import { SifiveTest, TYPE_SIFIVE_TEST } from '../misc/sifive-test.js';
// The built-in device types a board names by string: imported by value so their types are registered.
import { TYPE_NS16550A } from '../char/serial.js';
import { TYPE_GOLDFISH_RTC } from '../rtc/goldfish-rtc.js';
import { TYPE_VIRTIO_MMIO } from '../virtio/virtio-mmio.js';
import { mapPeripheralStub, TYPE_PERIPHERAL_STUB, type PeripheralStub, type PeripheralStubOptions } from '../misc/peripheral-stub.js';
import {
  RiscvAclintMtimer, RiscvAclintSwi, RISCV_ACLINT_DEFAULT_MTIME, RISCV_ACLINT_DEFAULT_MTIMECMP,
  RISCV_ACLINT_DEFAULT_MTIMER_SIZE, RISCV_ACLINT_SWI_SIZE,
} from '../intc/riscv-aclint.js';
import { SifivePlic, VIRT_PLIC } from '../intc/sifive-plic.js';
import { DEFAULT_RISCV_ISA, RiscvCpu } from '../../target/riscv/cpu.js';
import { disassemble, insnLength } from '../../target/riscv/disas.js';
import {
  IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT,
} from '../../target/riscv/hart-state.js';
import { deliveredCause, formatTrapLine, mmuIndex, setIrqLine, stimerExpired } from '../../target/riscv/priv.js';
import { riscvGetPhysAddrDebug } from '../../target/riscv/mmu.js';

/** A board description that cannot be built: names what and where. */
export class BoardError extends MachineError {
  override name = 'BoardError';
}

/** A guest address or size: a number, a bigint, or for sizes a string such as `'64K'`. */
export type BoardAddress = bigint | number;

/** The CPUs of a board. */
export interface BoardCpuSpec {
  /** `riscv64` or `riscv32`. */
  readonly arch: 'riscv64' | 'riscv32';
  /** Number of harts (default 1). */
  readonly count?: number;
  /** ISA string (default: everything the CPU model implements for the XLEN). */
  readonly isa?: string;
  /** Where the harts start (default: the firmware's entry, else the first memory region). */
  readonly resetVector?: BoardAddress;
  /** `time` CSR / mtime frequency in Hz (default 10 MHz, as virt). */
  readonly timebaseFreq?: number;
}

/** One memory region of a board. */
export interface BoardMemorySpec {
  /** Name (unique on the board; the region is `<board>.<name>`). */
  readonly name: string;
  /** RAM (read-write) or ROM (guest writes ignored; images are loaded into it). */
  readonly kind: 'ram' | 'rom';
  readonly base: BoardAddress;
  /** Bytes, or a size string (`'128M'`, `'64K'`). */
  readonly size: BoardAddress | string;
}

/** What a device contributes to the generated device tree. */
export interface BoardFdtNodeSpec {
  /** `compatible` (first entry most specific). */
  readonly compatible: string | readonly string[];
  /** Node name before `@` (default: the device id). */
  readonly name?: string;
  /** Extra properties: a number is one cell, a number array cells, a string or string array strings. */
  readonly props?: Readonly<Record<string, number | readonly number[] | string | readonly string[]>>;
}

/** One device on a board. */
export interface BoardDeviceSpec {
  /** QOM type name of a system-bus device (a built-in one or one registered with `defineType`). */
  readonly type: string;
  /** Id: the device is `/machine/soc/<id>` (unless `path` says otherwise) and `machine.dev(id)`. */
  readonly id: string;
  /** QOM path, for a board that must match QEMU's tree (virt's flash is `/machine/virt.flash0`); default `/machine/soc/<id>`. */
  readonly path?: string;
  /** Address of MMIO region 0, or of regions 0, 1, … (omit for a device without MMIO). */
  readonly at?: BoardAddress | readonly BoardAddress[];
  /**
   * Interrupt-controller inputs its sysbus IRQ outputs 0, 1, … drive: PLIC sources (1..sources-1), or
   * without a PLIC hart numbers (that hart's MEIP).
   */
  readonly irq?: number | readonly number[];
  /** QOM properties (typed values or strings as on a command line). */
  readonly props?: Readonly<Record<string, unknown>>;
  /** Device tree node (default: the type's class data `fdt`, a built-in table, or `softboard,<type>`); `false` for none. */
  readonly fdt?: BoardFdtNodeSpec | false;
}

/** The board's interrupt controller: a SiFive PLIC (contexts M and S per hart, virt's register layout). */
export interface BoardInterruptControllerSpec {
  readonly type?: 'plic';
  readonly base: BoardAddress;
  /** Sources including the reserved source 0 (default 96, as virt). */
  readonly sources?: number;
  /** Size of its MMIO region (default: up to the last hart's S context; virt's is 0x600000). */
  readonly size?: BoardAddress | string;
}

/** An ACLINT (CLINT-compatible MSWI at `base`, MTIMER at `base + 0x4000`). */
export interface BoardClintSpec {
  readonly base: BoardAddress;
}

/** A board: see the module comment. */
export interface BoardSpec {
  /** Board name (`compatible = "softboard,<name>"`, `model`). */
  readonly name: string;
  readonly cpu: BoardCpuSpec;
  readonly memory: readonly BoardMemorySpec[];
  readonly devices?: readonly BoardDeviceSpec[];
  readonly interruptController?: BoardInterruptControllerSpec;
  readonly clint?: BoardClintSpec;
  /** Register stubs for peripherals not modelled yet (see src/hw/misc/peripheral-stub.ts). */
  readonly stubs?: readonly PeripheralStubOptions[];
  /**
   * Chardev ids the board has besides those its devices' `chardev` properties name (e.g. for a
   * device that takes its chardev another way). The first chardev is the machine's serial.
   */
  readonly chardevs?: readonly string[];
  /**
   * Generate a device tree (default true); a function edits the generated tree before it is placed,
   * or returns another tree to use instead (virt returns QEMU's, see src/hw/riscv/virt.ts).
   */
  readonly fdt?: boolean | BoardFdtHook;
  /**
   * How machines of this board boot (default: {@link BoardOptions.firmware} loaded, the device tree
   * placed at the top of the first RAM region, a0/a1 set at every reset). A hook replaces all of that:
   * it loads the images, edits and places the tree ({@link BoardMachine.fdt}) and says where it went;
   * the harts start at `cpu.resetVector` (virt: its boot ROM, written by its hook).
   */
  readonly boot?: BoardBootHook;
}

/**
 * Edits the generated device tree of a machine being built (its devices are realized and mapped), or
 * returns another tree that replaces it.
 */
export type BoardFdtHook = (fdt: Fdt, machine: BoardMachine) => Fdt | void;

/** Boots a machine being built (see {@link BoardSpec.boot}); `options` are the factory's. */
export type BoardBootHook = (machine: BoardMachine, options: BoardOptions) => BoardBootResult;

/** What a {@link BoardBootHook} did. */
export interface BoardBootResult {
  /** Where it placed the device tree blob (0n for none). */
  readonly fdtAddr: bigint;
  /** The blob it placed there (the tree after its edits), or null. */
  readonly fdtBlob: Uint8Array | null;
  /**
   * Whether every reset sets hart i's a0 = i and a1 = fdtAddr, as the default boot does (default
   * false: the boot code, such as virt's reset ROM, sets them).
   */
  readonly setBootRegisters?: boolean;
  /** Board-specific details, kept as {@link BoardMachine.bootResult} (virt: its `VirtBootInfo`). */
  readonly details?: unknown;
}

/** Options of a board factory. */
export interface BoardOptions {
  /** Firmware: an ELF (loaded at its physical addresses; its entry is the harts' start) or a raw image loaded at the first ROM (else RAM) region. */
  readonly firmware?: Uint8Array;
  /** Name of the firmware for messages (default `firmware`). */
  readonly firmwareName?: string;
  /** Chardev backends by id (default: a new {@link BufferChardev} for each). */
  readonly chardevs?: Readonly<Record<string, Chardev>>;
  readonly backend?: TcgBackendName | Backend;
  readonly log?: Logger | LoggerOptions;
  readonly icountShift?: number;
  readonly mainLoop?: MainLoopOptions;
  readonly sliceNs?: number;
}

/** A board factory, as {@link defineBoard} returns it. */
export interface BoardFactory {
  (options?: BoardOptions): BoardMachine;
  /** The (checked) description. */
  readonly spec: BoardSpec;
}

/** Physical address bits of each architecture (RISC-V Sv39+ PPNs: 56 bits; Sv32: 34). */
const PHYS_BITS = { riscv64: 56n, riscv32: 34n } as const;
const MAX_HARTS = 512;
const RESERVED_IDS = /^(hart\d+|plic|mswi|mtimer)$/;

interface Range {
  readonly what: string;
  readonly start: bigint;
  readonly end: bigint;
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function rangeText(r: Range): string {
  return `${r.what} at ${hex(r.start)}-${hex(r.end - 1n)}`;
}

/** Adds `r` to `ranges`, or throws naming both when it overlaps one. */
function claim(board: string, ranges: Range[], r: Range): void {
  for (const o of ranges) {
    if (r.start < o.end && o.start < r.end) throw new BoardError(`board '${board}': ${rangeText(r)} overlaps ${rangeText(o)}`);
  }
  ranges.push(r);
}

function toBig(board: string, what: string, v: BoardAddress): bigint {
  if (typeof v === 'number' && (!Number.isSafeInteger(v) || v < 0)) throw new BoardError(`board '${board}': ${what} must be a non-negative integer, got ${v}`);
  const b = BigInt(v);
  if (b < 0n) throw new BoardError(`board '${board}': ${what} must be non-negative, got ${v}`);
  return b;
}

function toSize(board: string, what: string, v: BoardAddress | string): bigint {
  let s: bigint;
  try {
    s = parseSize(v);
  } catch (e) {
    throw new BoardError(`board '${board}': ${what}: ${(e as Error).message}`, { cause: e });
  }
  if (s === 0n) throw new BoardError(`board '${board}': ${what} must not be 0`);
  return s;
}

const asList = <T>(v: T | readonly T[] | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

function plicSize(harts: number): bigint {
  return BigInt(VIRT_PLIC.contextBase + 2 * harts * VIRT_PLIC.contextStride);
}

/**
 * Checks a board description and returns a factory of machines built from it. See the module
 * comment. @throws BoardError, PropertyError or QomTypeError naming the faulty entry.
 */
export function defineBoard(spec: BoardSpec): BoardFactory {
  checkBoardSpec(spec);
  const factory = ((options: BoardOptions = {}) => new BoardMachine(spec, options)) as BoardFactory;
  Object.defineProperty(factory, 'spec', { value: spec, enumerable: true });
  Object.defineProperty(factory, 'name', { value: `create_${spec.name}` });
  return factory;
}

/**
 * The checks {@link defineBoard} makes (for a board class that builds a {@link BoardMachine} itself, as
 * virt's does). @throws BoardError, PropertyError or QomTypeError naming the faulty entry.
 */
export function checkBoardSpec(spec: BoardSpec): void {
  const b = spec.name;
  if (typeof b !== 'string' || b === '') throw new BoardError('a board needs a name');
  const arch = spec.cpu?.arch;
  if (arch !== 'riscv64' && arch !== 'riscv32') throw new BoardError(`board '${b}': cpu.arch must be 'riscv64' or 'riscv32', got '${String(arch)}'`);
  const count = spec.cpu.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_HARTS) throw new BoardError(`board '${b}': cpu.count must be an integer 1..${MAX_HARTS}, got ${count}`);
  const limit = 1n << PHYS_BITS[arch];
  const ranges: Range[] = [];
  const inMap = (r: Range): void => {
    if (r.end > limit) {
      throw new BoardError(`board '${b}': ${rangeText(r)} is outside the ${PHYS_BITS[arch]}-bit physical address space of ${arch} (ends at ${hex(limit - 1n)})`);
    }
  };
  if (spec.memory.length === 0) throw new BoardError(`board '${b}': memory must list at least one RAM or ROM region`);
  const memNames = new Set<string>();
  for (const m of spec.memory) {
    if (m.kind !== 'ram' && m.kind !== 'rom') throw new BoardError(`board '${b}': memory '${m.name}' kind must be 'ram' or 'rom', got '${String(m.kind)}'`);
    if (!m.name || memNames.has(m.name)) throw new BoardError(`board '${b}': memory names must be unique and non-empty, got '${m.name}'`);
    memNames.add(m.name);
    const base = toBig(b, `memory '${m.name}' base`, m.base);
    const r = { what: `${m.kind.toUpperCase()} '${m.name}'`, start: base, end: base + toSize(b, `memory '${m.name}' size`, m.size) };
    inMap(r);
    claim(b, ranges, r);
  }
  if (spec.clint) {
    const base = toBig(b, 'clint base', spec.clint.base);
    const r = { what: 'the CLINT', start: base, end: base + BigInt(RISCV_ACLINT_SWI_SIZE + RISCV_ACLINT_DEFAULT_MTIMER_SIZE) };
    inMap(r);
    claim(b, ranges, r);
  }
  const ic = spec.interruptController;
  const sources = ic?.sources ?? VIRT_PLIC.numSources;
  if (ic) {
    if (ic.type !== undefined && ic.type !== 'plic') throw new BoardError(`board '${b}': interruptController.type must be 'plic', got '${String(ic.type)}'`);
    if (!Number.isInteger(sources) || sources < 2 || sources > 1024) throw new BoardError(`board '${b}': interruptController.sources must be 2..1024, got ${sources}`);
    const base = toBig(b, 'interruptController base', ic.base);
    let size = plicSize(count);
    if (ic.size !== undefined) {
      const given = toSize(b, 'interruptController size', ic.size);
      if (given < size) throw new BoardError(`board '${b}': interruptController.size ${hex(given)} is too small for the contexts of ${count} hart(s) (needs ${hex(size)})`);
      size = given;
    }
    const r = { what: 'the PLIC', start: base, end: base + size };
    inMap(r);
    claim(b, ranges, r);
  }
  for (const s of spec.stubs ?? []) {
    const base = toBig(b, `stub '${s.name}' base`, s.base);
    const r = { what: `stub '${s.name}'`, start: base, end: base + toSize(b, `stub '${s.name}' size`, s.size) };
    inMap(r);
    if ((s.priority ?? 0) === 0) claim(b, ranges, r);
  }

  const ids = new Set<string>();
  const paths = new Set<string>();
  const sysbusTypes = listTypes(TYPE_SYS_BUS_DEVICE);
  for (const d of spec.devices ?? []) {
    const where = `board '${b}': device '${d.id}'`;
    if (typeof d.id !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(d.id)) throw new BoardError(`board '${b}': device id '${String(d.id)}' must be letters, digits, '_', '.' or '-'`);
    if (ids.has(d.id) || (spec.stubs ?? []).some((s) => s.name === d.id)) throw new BoardError(`${where}: the id is used twice`);
    if (RESERVED_IDS.test(d.id)) throw new BoardError(`${where}: the id is reserved for the board's own devices (hart<N>, plic, mswi, mtimer)`);
    ids.add(d.id);
    if (d.path !== undefined) {
      if (typeof d.path !== 'string' || !/^\/machine(\/[A-Za-z0-9_.-]+)+$/.test(d.path)) throw new BoardError(`${where}: path '${String(d.path)}' must be a QOM path under /machine/ (e.g. /machine/soc/${d.id})`);
      if (paths.has(d.path)) throw new BoardError(`${where}: path '${d.path}' is used twice`);
      paths.add(d.path);
    }
    if (!typeExists(d.type)) throw new BoardError(`${where}: unknown device type '${d.type}'${didYouMean(d.type, sysbusTypes)}; system-bus device types: ${sysbusTypes.join(', ')}`);
    if (!isSubtype(d.type, TYPE_SYS_BUS_DEVICE)) throw new BoardError(`${where}: type '${d.type}' is not a system-bus device`);
    for (const [i, a] of asList(d.at).entries()) {
      const base = toBig(b, `device '${d.id}' at[${i}]`, a);
      if (base >= limit) throw new BoardError(`${where}: address ${hex(base)} is outside the ${PHYS_BITS[arch]}-bit physical address space of ${arch}`);
    }
    for (const n of asList(d.irq)) {
      if (ic) {
        if (!Number.isInteger(n) || n < 1 || n >= sources) throw new BoardError(`${where}: irq ${n} is out of range: the PLIC has sources 1..${sources - 1}`);
      } else if (!Number.isInteger(n) || n < 0 || n >= count) {
        throw new BoardError(`${where}: irq ${n} is out of range: without an interruptController, irq n is hart n's external interrupt (0..${count - 1})`);
      }
    }
    // Property values are checked by QOM on a throwaway instance (PropertyError names type and property).
    const probe = createObject(d.type);
    try {
      for (const [k, v] of Object.entries(d.props ?? {})) {
        try {
          probe.setProperty(k, v);
        } catch (e) {
          if (e instanceof PropertyError) throw new PropertyError(`${where}: ${e.message}`, e.typeName, e.property, { cause: e });
          throw e;
        }
      }
    } finally {
      probe.finalize();
    }
  }
  for (const id of spec.chardevs ?? []) if (typeof id !== 'string' || id === '') throw new BoardError(`board '${b}': chardev ids must be non-empty strings`);
}

/** A device node description in the built-in table (for types that ship with softboard). */
const BUILTIN_FDT: Readonly<Record<string, (dev: QObject) => BoardFdtNodeSpec>> = {
  [TYPE_NS16550A]: (dev) => ({
    name: 'serial', compatible: 'ns16550a',
    props: { 'clock-frequency': Number((dev as unknown as { baudbase?: number }).baudbase ?? 0) * 16 },
  }),
  [TYPE_SIFIVE_TEST]: () => ({ name: 'test', compatible: ['sifive,test1', 'sifive,test0', 'syscon'] }),
  [TYPE_GOLDFISH_RTC]: () => ({ name: 'rtc', compatible: 'google,goldfish-rtc' }),
  [TYPE_VIRTIO_MMIO]: () => ({ name: 'virtio_mmio', compatible: 'virtio,mmio' }),
  [TYPE_PERIPHERAL_STUB]: () => ({ compatible: 'softboard,peripheral-stub' }),
};

/** A device's IRQ output, for the wiring. */
interface DeviceIrqOutput {
  readonly line: IrqLine;
  readonly device: string;
  readonly output: number;
}

/** A mapped device with what the FDT needs. */
interface Placed {
  readonly id: string;
  readonly dev: SysBusDevice;
  readonly spec: BoardDeviceSpec | null;
  readonly regs: readonly { base: bigint; size: bigint }[];
  readonly irqs: readonly number[];
}

/** A machine built from a {@link BoardSpec}; see the module comment. */
export class BoardMachine<S extends Chardev = BufferChardev> extends Machine<S> {
  /** The description it was built from. */
  readonly spec: BoardSpec;
  readonly xlen: 32 | 64;
  readonly harts: RiscvCpu[] = [];
  /** Memory regions by name. */
  readonly memories = new Map<string, MemoryRegion>();
  /** Devices by id. */
  readonly devices = new Map<string, SysBusDevice>();
  /** Peripheral stubs by name. */
  readonly stubs = new Map<string, PeripheralStub>();
  readonly plic: SifivePlic | null = null;
  readonly mswi: RiscvAclintSwi | null = null;
  readonly mtimer: RiscvAclintMtimer | null = null;
  /** The parsed firmware ELF, if the firmware was one. */
  readonly firmwareElf: ElfImage | null = null;
  /** Where the harts start. */
  readonly entry: bigint;
  /** The device tree (null with `fdt: false`), its blob and address (0 without). */
  readonly fdt: Fdt | null = null;
  readonly fdtBlob: Uint8Array | null = null;
  readonly fdtAddr: bigint = 0n;
  /** What the spec's `boot` hook returned (null for the default boot). */
  readonly bootResult: BoardBootResult | null = null;
  /** Whether resets set a0 = hart id, a1 = FDT address (the default boot's convention). */
  readonly #bootRegisters: boolean = true;
  /** Direct MEIP lines per hart (boards without a PLIC). */
  readonly #meip: IrqLine[] = [];
  readonly #stimers: QemuTimer<RiscvCpu>[] = [];
  readonly #placed: Placed[] = [];
  readonly #ranges: Range[] = [];

  constructor(spec: BoardSpec, options: BoardOptions = {}) {
    super({
      ...(options.log !== undefined ? { log: options.log } : {}),
      ...(options.icountShift !== undefined ? { icountShift: options.icountShift } : {}),
      ...(options.mainLoop !== undefined ? { mainLoop: options.mainLoop } : {}),
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
      ...(options.sliceNs !== undefined ? { sliceNs: options.sliceNs } : {}),
    });
    this.spec = spec;
    const b = spec.name;
    const arch = spec.cpu.arch;
    this.xlen = arch === 'riscv32' ? 32 : 64;
    const count = spec.cpu.count ?? 1;
    const freq = spec.cpu.timebaseFreq ?? 10_000_000;

    // -- memory --
    for (const m of spec.memory) {
      const base = BigInt(m.base);
      const size = parseSize(m.size);
      const opts = this.ramAllocator !== undefined ? { allocator: this.ramAllocator } : {};
      const mr = m.kind === 'ram' ? MemoryRegion.ram(this, `${b}.${m.name}`, size, opts) : MemoryRegion.rom(this, `${b}.${m.name}`, size, opts);
      claim(b, this.#ranges, { what: `${m.kind.toUpperCase()} '${m.name}'`, start: base, end: base + size });
      this.sysmem.addSubregion(base, mr);
      this.memories.set(m.name, mr);
    }

    // -- firmware (parsed first: its entry is the reset vector) --
    const fwName = options.firmwareName ?? 'firmware';
    let fwEntry: bigint | null = null;
    // With a boot hook, the hook loads the images.
    if (spec.boot === undefined && options.firmware !== undefined && isElf(options.firmware)) {
      try {
        this.firmwareElf = parseElf(options.firmware, { machine: EM_RISCV });
      } catch (e) {
        throw new BoardError(`board '${b}': ${fwName}: ${(e as Error).message}`, { cause: e });
      }
      if (this.firmwareElf.class !== this.xlen) throw new BoardError(`board '${b}': ${fwName} is a ${this.firmwareElf.class}-bit ELF but the board is ${arch}`);
      fwEntry = this.firmwareElf.entry;
    }
    const firstRom = spec.memory.find((m) => m.kind === 'rom') ?? spec.memory.find((m) => m.kind === 'ram');
    const rawBase = BigInt(firstRom?.base ?? 0);
    this.entry = spec.cpu.resetVector !== undefined ? BigInt(spec.cpu.resetVector) : (fwEntry ?? rawBase);

    // -- harts --
    const isa = spec.cpu.isa ?? (this.xlen === 64 ? DEFAULT_RISCV_ISA : DEFAULT_RISCV_ISA.replace(/^rv64/, 'rv32'));
    for (let i = 0; i < count; i++) {
      const cpu = new RiscvCpu({
        isa, mhartid: BigInt(i), resetVector: this.entry,
        getTime: () => {
          this.syncClock();
          return this.mtimer ? this.mtimer.getTime() : BigInt(Math.floor(this.mainLoop.virtual.now() * freq / 1e9));
        },
      });
      if (cpu.xlen !== this.xlen) throw new BoardError(`board '${b}': isa '${isa}' is RV${cpu.xlen} but the board is ${arch}`);
      this.addObject(`/machine/soc/hart${i}`, cpu);
      cpu.realize();
      this.addCpu(cpu);
      this.harts.push(cpu);
    }
    // A CPU interrupt input: sets its mip bit, reported as an `irq` event.
    const cpuIrq = (i: number, line: number): IrqLevelHandler =>
      this.irqWire({ kind: 'cpu', cpu: i, line }, (level) => setIrqLine(this.harts[i]!.hart, line, level));

    // -- CLINT (as virt: riscv_aclint_swi_create + riscv_aclint_mtimer_create) --
    if (spec.clint) {
      const base = BigInt(spec.clint.base);
      const mswi = new RiscvAclintSwi();
      mswi.setProperty('numHarts', count);
      mswi.setMachineContext(this);
      this.#place('mswi', mswi, [base], null);
      const mtimer = new RiscvAclintMtimer();
      mtimer.setProperties({
        numHarts: count, timecmpBase: RISCV_ACLINT_DEFAULT_MTIMECMP, timeBase: RISCV_ACLINT_DEFAULT_MTIME,
        apertureSize: RISCV_ACLINT_DEFAULT_MTIMER_SIZE, timebaseFreq: freq,
      });
      mtimer.setMachineContext(this);
      this.#place('mtimer', mtimer, [base + BigInt(RISCV_ACLINT_SWI_SIZE)], null);
      for (const i of this.harts.keys()) {
        mswi.msip[i]!.connect(cpuIrq(i, IRQ_M_SOFT));
        mtimer.mtip[i]!.connect(cpuIrq(i, IRQ_M_TIMER));
      }
      this.mswi = mswi;
      this.mtimer = mtimer;
    }
    // Sstc timers (after the CLINT's, as virt creates them).
    for (const cpu of this.harts) this.#wireSstc(cpu, freq);

    // -- interrupt controller --
    const ic = spec.interruptController;
    if (ic) {
      const plic = new SifivePlic();
      plic.setProperties({
        hartConfig: Array.from({ length: count }, () => 'MS').join(','), numSources: ic.sources ?? VIRT_PLIC.numSources,
        numPriorities: VIRT_PLIC.numPriorities, pendingBase: VIRT_PLIC.pendingBase, enableBase: VIRT_PLIC.enableBase,
        enableStride: VIRT_PLIC.enableStride, contextBase: VIRT_PLIC.contextBase, contextStride: VIRT_PLIC.contextStride,
        apertureSize: Number(ic.size !== undefined ? parseSize(ic.size) : plicSize(count)),
      });
      plic.setMachineContext(this);
      this.#place('plic', plic, [BigInt(ic.base)], null);
      for (const i of this.harts.keys()) {
        plic.mExternal(i).connect(cpuIrq(i, IRQ_M_EXT));
        plic.sExternal(i).connect(cpuIrq(i, IRQ_S_EXT));
      }
      this.plic = plic;
    } else {
      for (const i of this.harts.keys()) this.#meip.push(new IrqLine(cpuIrq(i, IRQ_M_EXT), `hart${i}.meip`));
    }

    // -- chardevs: the ids devices name, then the declared ones --
    const chardevIds: string[] = [];
    for (const d of spec.devices ?? []) {
      const c = d.props?.['chardev'];
      if (typeof c === 'string' && !chardevIds.includes(c)) chardevIds.push(c);
    }
    for (const id of spec.chardevs ?? []) if (!chardevIds.includes(id)) chardevIds.push(id);
    for (const [i, id] of chardevIds.entries()) {
      const chr = options.chardevs?.[id] ?? new BufferChardev();
      this.chardevs.add(id, chr);
      if (i === 0) this.setSerial(chr as S);
    }
    for (const id of Object.keys(options.chardevs ?? {})) {
      if (!chardevIds.includes(id)) throw new BoardError(`board '${b}' has no chardev '${id}' (it has: ${chardevIds.join(', ') || 'none'})`);
    }

    // -- devices --
    const inputs = new Map<number, DeviceIrqOutput[]>();
    for (const d of spec.devices ?? []) {
      const dev = createObject<SysBusDevice>(d.type, d.props);
      const withCtx = dev as unknown as { setMachineContext?: (ctx: unknown) => void };
      if (typeof withCtx.setMachineContext === 'function') withCtx.setMachineContext(this);
      const irqs = asList(d.irq);
      this.#place(d.id, dev, asList(d.at).map((a) => BigInt(a)), d, irqs);
      if (irqs.length > dev.irqCount) {
        throw new BoardError(`board '${b}': device '${d.id}' (${d.type}) has ${dev.irqCount} IRQ output(s) but irq lists ${irqs.length}`);
      }
      for (const [i, n] of irqs.entries()) {
        const list = inputs.get(n) ?? [];
        list.push({ line: dev.irq(i), device: d.id, output: i });
        inputs.set(n, list);
      }
      if (dev instanceof SifiveTest) {
        dev.events.on('shutdown', (status, kind) => this.shutdown({ kind, status }));
        dev.events.on('reset', () => this.requestReset());
      }
      this.devices.set(d.id, dev);
    }
    // Outputs sharing an input are ORed (QEMU TYPE_OR_IRQ), as a line has one driver. Each output's
    // changes are reported as `irq` events.
    for (const [n, outs] of inputs) {
      const target = this.plic ? this.plic.irqIn(n) : this.#meip[n]!;
      const wire = (o: DeviceIrqOutput, to: IrqLine): void => o.line.connect(this.irqWire({ kind: 'device', device: o.device, output: o.output, source: n }, to));
      if (outs.length === 1) {
        wire(outs[0]!, target);
      } else {
        const or = irqOr(outs.length, `irq${n}`);
        outs.forEach((o, i) => wire(o, or.inputs[i]!));
        or.output.connect(target);
      }
    }

    // -- stubs --
    for (const s of spec.stubs ?? []) {
      const base = BigInt(s.base);
      if ((s.priority ?? 0) === 0) claim(b, this.#ranges, { what: `stub '${s.name}'`, start: base, end: base + parseSize(s.size) });
      this.stubs.set(s.name, mapPeripheralStub(this, s));
    }

    // -- device tree (generated, then the spec's hook may edit or replace it) --
    let fdt: Fdt | null = null;
    if (spec.fdt !== false) {
      fdt = this.#buildFdt(isa, freq);
      if (typeof spec.fdt === 'function') fdt = spec.fdt(fdt, this as unknown as BoardMachine) ?? fdt;
      this.fdt = fdt;
    }

    // -- boot: the spec's hook, or the firmware image and the tree at the top of RAM --
    if (spec.boot !== undefined) {
      const r = spec.boot(this as unknown as BoardMachine, options);
      this.bootResult = r;
      this.fdtAddr = r.fdtAddr;
      this.fdtBlob = r.fdtBlob;
      this.#bootRegisters = r.setBootRegisters ?? false;
    } else {
      const r = this.#defaultBoot(options, fwName, rawBase, fdt);
      this.fdtAddr = r.fdtAddr;
      this.fdtBlob = r.fdtBlob;
    }

    this.traceTarget = (cpu) => riscvTraceTarget(cpu as RiscvCpu);
    this.reset();
  }

  /** The default boot: the firmware (ELF at its addresses, raw at the first ROM), then the FDT at the top of RAM. */
  #defaultBoot(options: BoardOptions, fwName: string, rawBase: bigint, fdt: Fdt | null): BoardBootResult {
    const spec = this.spec;
    const b = spec.name;
    if (options.firmware !== undefined) {
      if (this.firmwareElf) {
        for (const seg of this.firmwareElf.segments) this.#checkFits(`${fwName} segment ${seg.index}`, seg.paddr, seg.memsz);
        loadElf(this.firmwareElf, (addr, data) => this.addRom(`${fwName} @0x${addr.toString(16)}`, addr, data));
        this.addSymbols(this.firmwareElf);
      } else {
        this.#checkFits(fwName, rawBase, BigInt(options.firmware.length));
        this.addRom(fwName, rawBase, options.firmware);
      }
    }

    if (fdt === null) return { fdtAddr: 0n, fdtBlob: null };
    const blob = fdt.toBlob();
    const ram = spec.memory.find((m) => m.kind === 'ram');
    if (!ram) throw new BoardError(`board '${b}': the device tree needs a RAM region (or set fdt: false)`);
    const ramBase = BigInt(ram.base), ramEnd = ramBase + parseSize(ram.size);
    // QEMU riscv_compute_fdt_addr: the top of RAM, aligned down to 2 MiB; on a RAM too small for that
    // to stay in its upper half, aligned down to 8 bytes (what the DT spec asks).
    let addr = (ramEnd - BigInt(blob.length)) & ~(0x200000n - 1n);
    if (addr < ramBase + (ramEnd - ramBase) / 2n) addr = (ramEnd - BigInt(blob.length)) & ~7n;
    if (addr < ramBase) throw new BoardError(`board '${b}': the ${blob.length}-byte device tree does not fit in RAM '${ram.name}'`);
    this.addRom('fdt', addr, blob);
    return { fdtAddr: addr, fdtBlob: blob };
  }

  /** The device with id `id`. @throws BoardError listing the ids if there is none. */
  dev<T extends SysBusDevice = SysBusDevice>(id: string): T {
    const d = this.devices.get(id) ?? this.stubs.get(id);
    if (!d) throw new BoardError(`board '${this.spec.name}' has no device '${id}' (devices: ${[...this.devices.keys(), ...this.stubs.keys()].join(', ')})`);
    return d as unknown as T;
  }

  /** Creates, places, realizes and maps a device, checking its regions against the map. */
  #place(id: string, dev: SysBusDevice, at: readonly bigint[], spec: BoardDeviceSpec | null, irqs: readonly number[] = []): void {
    const b = this.spec.name;
    this.addObject(spec?.path ?? `/machine/soc/${id}`, dev);
    dev.realize();
    if (at.length > dev.mmioCount) {
      throw new BoardError(`board '${b}': device '${id}' (${dev.typeName}) has ${dev.mmioCount} MMIO region(s) but 'at' lists ${at.length} address(es)`);
    }
    const regs: { base: bigint; size: bigint }[] = [];
    for (const [n, base] of at.entries()) {
      const mr = dev.mmio<MemoryRegion>(n);
      const limit = 1n << PHYS_BITS[this.spec.cpu.arch];
      const r = { what: `device '${id}'${at.length > 1 ? ` region ${n}` : ''}`, start: base, end: base + mr.size };
      if (r.end > limit) throw new BoardError(`board '${b}': ${rangeText(r)} is outside the physical address space of ${this.spec.cpu.arch}`);
      claim(b, this.#ranges, r);
      this.sysmem.addSubregion(base, mr);
      dev.mmioMap(n, base);
      regs.push({ base, size: mr.size });
    }
    this.#placed.push({ id, dev, spec, regs, irqs });
  }

  #checkFits(what: string, addr: bigint, len: bigint): void {
    if (len === 0n) return;
    const bad = this.firstNonMemory(addr, len);
    if (bad === null) return;
    throw new BoardError(`board '${this.spec.name}': ${what} at ${hex(addr)} (${hex(len)} bytes) does not fit in memory: ${hex(bad)} is ${this.describeAddress(bad)}; memory map:\n${this.memoryMapText()}`);
  }

  /** Sstc: stimecmp in the future arms a timer on the machine's clock (as virt's wireSstc). */
  #wireSstc(cpu: RiscvCpu, freq: number): void {
    const timer: QemuTimer<RiscvCpu> = this.mainLoop.timerNew('virtual', (c) => stimerExpired(c.hart), cpu);
    timer.id = `${cpu.path ?? 'hart'}/stimer`; // snapshots save it by this name
    this.#stimers.push(timer);
    cpu.hart.scheduleStimer = (deadline) => {
      const now = this.virtualTimeNs;
      // The clock was synced by the CSR write that armed the deadline.
      const delta = deadline - (this.mtimer ? this.mtimer.getTime() : cpu.hart.getTime());
      if (delta <= 0n) {
        timer.modNs(now);
        return;
      }
      const f = BigInt(freq);
      const next = BigInt(now) + (delta * 1_000_000_000n + f - 1n) / f;
      if (next > BigInt(Number.MAX_SAFE_INTEGER)) timer.del();
      else timer.modNs(Number(next));
    };
  }

  #buildFdt(isa: string, freq: number): Fdt {
    const spec = this.spec;
    const fdt = new Fdt();
    const root = fdt.root;
    root.setPropU32('#address-cells', 2);
    root.setPropU32('#size-cells', 2);
    root.setPropString('compatible', `softboard,${spec.name}`);
    root.setPropString('model', spec.name);
    const reg = regCells;

    const intc: number[] = [];
    const chosen = root.addNode('chosen');
    for (const m of spec.memory) {
      if (m.kind !== 'ram') continue;
      const base = BigInt(m.base);
      const n = root.addNode(`memory@${base.toString(16)}`);
      n.setPropString('device_type', 'memory');
      n.setPropCells('reg', reg([{ base, size: parseSize(m.size) }]));
    }
    const cpus = root.addNode('cpus');
    cpus.setPropU32('#address-cells', 1);
    cpus.setPropU32('#size-cells', 0);
    cpus.setPropU32('timebase-frequency', freq);
    for (const [i] of this.harts.entries()) {
      const cpu = cpus.addNode(`cpu@${i}`);
      cpu.setPropU32('phandle', fdt.allocPhandle());
      cpu.setPropString('device_type', 'cpu');
      cpu.setPropU32('reg', i);
      cpu.setPropString('status', 'okay');
      cpu.setPropString('compatible', 'riscv');
      cpu.setPropString('riscv,isa', isa);
      cpu.setPropString('mmu-type', this.xlen === 32 ? 'riscv,sv32' : 'riscv,sv48');
      const ic = cpu.addNode('interrupt-controller');
      const ph = fdt.allocPhandle();
      ic.setPropU32('#interrupt-cells', 1);
      ic.setPropEmpty('interrupt-controller');
      ic.setPropString('compatible', 'riscv,cpu-intc');
      ic.setPropU32('phandle', ph);
      intc.push(ph);
    }
    const soc = root.addNode('soc');
    soc.setPropU32('#address-cells', 2);
    soc.setPropU32('#size-cells', 2);
    soc.setPropString('compatible', 'simple-bus');
    soc.setPropEmpty('ranges');

    let plicPh = 0;
    const plic = this.#placed.find((p) => p.id === 'plic');
    if (plic && this.plic) {
      plicPh = fdt.allocPhandle();
      const n = soc.addNode(`plic@${plic.regs[0]!.base.toString(16)}`);
      n.setPropU32('phandle', plicPh);
      n.setPropU32('riscv,ndev', this.plic.numSources - 1);
      n.setPropCells('reg', reg(plic.regs));
      n.setPropCells('interrupts-extended', intc.flatMap((p) => [p, IRQ_M_EXT, p, IRQ_S_EXT]));
      n.setPropEmpty('interrupt-controller');
      n.setPropStringList('compatible', ['sifive,plic-1.0.0', 'riscv,plic0']);
      n.setPropU32('#address-cells', 0);
      n.setPropU32('#interrupt-cells', 1);
    }
    const mswi = this.#placed.find((p) => p.id === 'mswi');
    if (mswi) {
      const base = mswi.regs[0]!.base;
      const n = soc.addNode(`clint@${base.toString(16)}`);
      n.setPropCells('interrupts-extended', intc.flatMap((p) => [p, IRQ_M_SOFT, p, IRQ_M_TIMER]));
      n.setPropCells('reg', reg([{ base, size: BigInt(RISCV_ACLINT_SWI_SIZE + RISCV_ACLINT_DEFAULT_MTIMER_SIZE) }]));
      n.setPropStringList('compatible', ['sifive,clint0', 'riscv,clint0']);
    }
    let stdout: string | null = null;
    for (const p of this.#placed) {
      if (p.spec === null) continue;
      const n = this.#addDeviceNode(soc, p, this.plic ? { plic: plicPh } : { intc });
      if (n === null) continue;
      if (stdout === null && p.dev.hasProperty('chardev') && p.dev.getProperty('chardev') === this.chardevs.ids()[0]) stdout = n.path;
    }
    if (stdout !== null) chosen.setPropString('stdout-path', stdout);
    return fdt;
  }

  /**
   * Adds device `id`'s node under `parent` as the generated tree has it (name@address, `reg`,
   * `compatible`, its props, and `interrupts` with `interrupt-parent` = `plicPhandle`, or with
   * `intcPhandles` (hart h's cpu-intc, on boards without a PLIC) `interrupts-extended`). For `fdt`
   * hooks that build their own tree, e.g. virt's for devices added to its spec.
   * @returns the node, or null for a device whose spec says `fdt: false`.
   * @throws BoardError for an unknown id or a missing interrupt parent.
   */
  addFdtDeviceNode(parent: FdtNode, id: string, interruptParent: { readonly plicPhandle: number } | { readonly intcPhandles: readonly number[] }): FdtNode | null {
    const p = this.#placed.find((x) => x.id === id && x.spec !== null);
    if (!p) throw new BoardError(`board '${this.spec.name}' has no device '${id}' to describe in the device tree`);
    return this.#addDeviceNode(parent, p, 'plicPhandle' in interruptParent ? { plic: interruptParent.plicPhandle } : { intc: interruptParent.intcPhandles });
  }

  #addDeviceNode(parent: FdtNode, p: Placed, irqParent: { readonly plic: number } | { readonly intc: readonly number[] }): FdtNode | null {
    const node = this.#deviceFdt(p);
    if (node === null) return null;
    const name = `${node.name ?? p.id}${p.regs.length > 0 ? `@${p.regs[0]!.base.toString(16)}` : ''}`;
    const n = parent.addNode(name);
    if (p.irqs.length > 0) {
      if ('plic' in irqParent) {
        n.setPropCells('interrupts', p.irqs);
        n.setPropU32('interrupt-parent', irqParent.plic);
      } else {
        n.setPropCells('interrupts-extended', p.irqs.flatMap((h) => {
          const ph = irqParent.intc[h];
          if (ph === undefined) throw new BoardError(`board '${this.spec.name}': device '${p.id}' irq ${h}: no cpu interrupt controller phandle for hart ${h}`);
          return [ph, IRQ_M_EXT];
        }));
      }
    }
    if (p.regs.length > 0) n.setPropCells('reg', regCells(p.regs));
    n.setPropStringList('compatible', asList(node.compatible));
    for (const [k, v] of Object.entries(node.props ?? {})) setFdtProp(n, k, v);
    return n;
  }

  #deviceFdt(p: Placed): BoardFdtNodeSpec | null {
    if (p.spec?.fdt === false) return null;
    if (p.spec?.fdt) return p.spec.fdt;
    const fromClass = objectClassByName(p.dev.typeName)['fdt'];
    if (typeof fromClass === 'function') return (fromClass as (dev: QObject) => BoardFdtNodeSpec)(p.dev);
    if (fromClass && typeof fromClass === 'object') return fromClass as BoardFdtNodeSpec;
    const builtin = BUILTIN_FDT[p.dev.typeName];
    return builtin ? builtin(p.dev) : { compatible: `softboard,${p.dev.typeName}` };
  }

  protected override onReset(): void {
    for (const t of this.#stimers) t.del();
    // A hart's reset clears mip but the wires keep their levels (see virt.ts onReset); the boot
    // convention puts the hart id in a0 and the FDT address in a1.
    for (const [i, cpu] of this.harts.entries()) {
      if (this.mswi) setIrqLine(cpu.hart, IRQ_M_SOFT, this.mswi.msip[i]!.level);
      if (this.mtimer) setIrqLine(cpu.hart, IRQ_M_TIMER, this.mtimer.mtip[i]!.level);
      if (this.plic) {
        setIrqLine(cpu.hart, IRQ_M_EXT, this.plic.mExternal(i).level);
        setIrqLine(cpu.hart, IRQ_S_EXT, this.plic.sExternal(i).level);
      } else {
        setIrqLine(cpu.hart, IRQ_M_EXT, this.#meip[i]?.level ?? false);
      }
      if (this.#bootRegisters) {
        cpu.setRegister('a0', BigInt(i));
        cpu.setRegister('a1', this.fdtAddr);
      }
    }
  }
}

/** `reg` cells for #address-cells = #size-cells = 2. */
function regCells(list: readonly { base: bigint; size: bigint }[]): number[] {
  return list.flatMap(({ base, size }) => [Number(base >> 32n), Number(base & 0xffffffffn), Number(size >> 32n), Number(size & 0xffffffffn)]);
}

function setFdtProp(n: FdtNode, k: string, v: number | readonly number[] | string | readonly string[]): void {
  if (typeof v === 'number') n.setPropU32(k, v);
  else if (typeof v === 'string') n.setPropString(k, v);
  else if (v.length > 0 && typeof v[0] === 'string') n.setPropStringList(k, v as readonly string[]);
  else n.setPropCells(k, v as readonly number[]);
}

function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

// ---- tracing support for RISC-V harts (used by Machine.trace; see src/util/trace.ts) -----------------

/**
 * The {@link TraceTarget} of a RISC-V hart: objdump-syntax disassembly, `Priv: N; Virt: 0` headers,
 * QEMU 7.2 riscv_cpu_do_interrupt's `int` lines, debug address translation, and TLB fills for `mmu`.
 */
export function riscvTraceTarget(cpu: RiscvCpu): TraceTarget {
  const xlen = cpu.xlen;
  const h = cpu.hart;
  return {
    addressBits: xlen,
    disassemble(bytes, pc) {
      if (bytes.length < 2) return { length: bytes.length, text: '.byte' };
      const lo = bytes[0]! | (bytes[1]! << 8);
      const len = insnLength(lo);
      if (len === 4 && bytes.length < 4) return { length: 2, text: `.2byte 0x${lo.toString(16)}` };
      const insn = len === 2 ? lo : (lo | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
      return { length: len, text: disassemble(insn, pc, xlen) };
    },
    tbHeader: (flags) => `Priv: ${flags & 3}; Virt: 0`,
    trapCause(kind) {
      if (kind === 'exception') {
        const t = h.pendingException;
        return t === null ? undefined : deliveredCause(h, t);
      }
      return Number((h.priv === 1 ? h.scause : h.mcause) & 0xffn);
    },
    describeTrap(kind, pc) {
      if (kind === 'exception') {
        const t = h.pendingException;
        if (t === null) return formatTrapLine(h, false, 0, pc, 0n);
        return formatTrapLine(h, t.interrupt, deliveredCause(h, t), pc, t.tval);
      }
      // Interrupts are logged after delivery: the cause/epc are in the CSRs of the mode taken to.
      const s = h.priv === 1;
      const cause = s ? h.scause : h.mcause;
      return formatTrapLine(h, true, Number(cause & 0xffn), s ? h.sepc : h.mepc, s ? h.stval : h.mtval);
    },
    physAddr: (vaddr) => riscvGetPhysAddrDebug(h, cpu.phys, vaddr, mmuIndex(h, true)),
    watchTlbFill(listener: (fill: TraceTlbFill) => void): () => void {
      // The loop calls `ops.tlbFill` on the CPU object: an own property shadows the method while tracing.
      const prev = cpu.tlbFill;
      const wrapped: typeof cpu.tlbFill = (vaddr, access, mmuIdx, probe) => {
        let r: ReturnType<typeof prev>;
        try {
          r = prev.call(cpu, vaddr, access, mmuIdx, probe);
        } catch (e) {
          listener({ vaddr, access, mmuIdx, result: null });
          throw e;
        }
        listener({ vaddr, access, mmuIdx, result: r ? { physPage: r.physPage, prot: r.prot } : null });
        return r;
      };
      cpu.tlbFill = wrapped;
      return () => {
        if (cpu.tlbFill === wrapped) {
          if (prev === RiscvCpu.prototype.tlbFill) delete (cpu as { tlbFill?: unknown }).tlbFill;
          else cpu.tlbFill = prev;
        }
      };
    },
  };
}

/** The {@link TraceTarget} for a machine's CPU when it is a RISC-V hart (for boards built by hand). */
export function riscvTraceTargetOf(cpu: MachineCpu): TraceTarget {
  if (!(cpu instanceof RiscvCpu)) throw new BoardError('riscvTraceTargetOf needs a RiscvCpu');
  return riscvTraceTarget(cpu);
}
