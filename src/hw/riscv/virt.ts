/**
 * The RISC-V `virt` board (QEMU 7.2 hw/riscv/virt.c): its memory map, its devices and their wiring,
 * its device tree, and how it boots (hw/riscv/boot.c, in ./boot.ts). The board is data given to the
 * {@link defineBoard} machinery ({@link virtBoardSpec}, {@link RISCV_VIRT_BOARD}); its `fdt` hook gives
 * QEMU's tree ({@link createVirtFdt}) and its `boot` hook QEMU's boot ROM and image placement.
 *
 * ```
 * 0x0000_1000  mrom       boot stub + fw_dynamic_info (ROM, 0xf000)
 * 0x0010_0000  test       sifive_test: power off (pass/fail code), reset
 * 0x0010_1000  rtc        goldfish RTC                    PLIC irq 11
 * 0x0200_0000  clint      ACLINT MSWI (msip), + 0x4000 MTIMER (mtimecmp; mtime at 0xbff8)
 * 0x0c00_0000  plic       SiFive PLIC, 96 sources, contexts M and S per hart
 * 0x1000_0000  uart0      NS16550A                        PLIC irq 10
 * 0x1000_1000  virtio     8 virtio-mmio transports, 0x1000 apart, PLIC irq 1..8
 * 0x2000_0000  flash      2 × 32 MiB CFI flash (pflash-cfi01: Intel command set, 4-byte bank of two x16 chips)
 * 0x8000_0000  dram       RAM (-m, 128 MiB by default)
 * ```
 * IRQs: UART/RTC/virtio → PLIC inputs; PLIC context 2h → hart h MEIP, 2h+1 → SEIP; ACLINT → MSIP/MTIP.
 * The hart's `time` CSR reads the mtimer, and Sstc's stimecmp arms a timer on the machine's clock.
 *
 * Boot, as QEMU: the hart starts at 0x1000 in M-mode; the stub sets a0 = hart id, a1 = the FDT address,
 * a2 = &fw_dynamic_info and jumps to the start address: the firmware at 0x8000_0000 (`bios`), or with
 * `bios: 'none'` the kernel's entry. The kernel goes to align_up(firmware end, 2 MiB (RV64) / 4 MiB
 * (RV32)) unless it is an ELF (loaded at its physical addresses); the initrd above it; the FDT near the
 * top of RAM (below 3 GiB). Every image is a ROM blob: it is written again at each reset.
 *
 * Not emulated (and so not in the FDT): fw_cfg, the PCIe host, the platform bus, the PMU.
 * @module
 */
import type { Backend } from '../../tcg/backend/backend.js';
import { Fdt, parseFdt } from '../core/fdt.js';
import { parseElf, loadElf, EM_RISCV, type ElfImage } from '../core/loader.js';
import {
  BoardError, BoardMachine, checkBoardSpec, defineBoard, type BoardAddress, type BoardBootResult, type BoardDeviceSpec,
  type BoardOptions, type BoardSpec,
} from '../core/board.js';
import { Ns16550a, TYPE_NS16550A } from '../char/serial.js';
import { FINISHER_PASS, FINISHER_RESET, SifiveTest, TYPE_SIFIVE_TEST } from '../misc/sifive-test.js';
import type { RiscvAclintMtimer, RiscvAclintSwi } from '../intc/riscv-aclint.js';
import { VIRT_PLIC, type SifivePlic } from '../intc/sifive-plic.js';
import { GoldfishRtc, TYPE_GOLDFISH_RTC } from '../rtc/goldfish-rtc.js';
import { TYPE_VIRTIO_MMIO, type VirtioMmio } from '../virtio/virtio-mmio.js';
import { PFlashCfi01, TYPE_PFLASH_CFI01 } from '../block/pflash-cfi01.js';
import type { TcgBackendName } from '../core/cpu.js';
import { DEFAULT_RISCV_ISA } from '../../target/riscv/cpu.js';
import type { MemoryRegion } from '../../memory/region.js';
import type { BufferChardev } from '../../chardev/char-buffer.js';
import type { Chardev } from '../../chardev/char.js';
import type { Logger, LoggerOptions } from '../../util/log.js';
import type { MainLoopOptions } from '../../util/main-loop.js';
import { parseSize } from '../../util/size.js';
import { MachineError } from '../../machine/machine.js';
import {
  fdtLoadAddr, fwDynamicInfoBytes, initrdStartAddr, kernelStartAddr, resetVectorBytes, RESET_VEC_SIZE,
} from './boot.js';

/** One `{ base, size }` entry of the board's memory map (QEMU MemMapEntry). */
export interface MemMapEntry {
  readonly base: bigint;
  readonly size: bigint;
}

/** The virt board's memory map (QEMU 7.2 virt_memmap). */
export const VIRT_MEMMAP = {
  debug: { base: 0x0n, size: 0x100n },
  mrom: { base: 0x1000n, size: 0xf000n },
  test: { base: 0x100000n, size: 0x1000n },
  rtc: { base: 0x101000n, size: 0x1000n },
  clint: { base: 0x2000000n, size: 0x10000n },
  plic: { base: 0xc000000n, size: 0x600000n },
  uart0: { base: 0x10000000n, size: 0x100n },
  virtio: { base: 0x10001000n, size: 0x1000n },
  fwCfg: { base: 0x10100000n, size: 0x18n },
  flash: { base: 0x20000000n, size: 0x4000000n },
  dram: { base: 0x80000000n, size: 0n },
} as const satisfies Record<string, MemMapEntry>;

/** Erase block size of the flash banks (QEMU VIRT_FLASH_SECTOR_SIZE). */
export const VIRT_FLASH_SECTOR_SIZE = 256n * 1024n;
/** PLIC input of the UART (QEMU UART0_IRQ). */
export const UART0_IRQ = 10;
/** PLIC input of the RTC (QEMU RTC_IRQ). */
export const RTC_IRQ = 11;
/** PLIC input of the first virtio-mmio slot; slot i uses VIRTIO_IRQ + i (QEMU VIRTIO_IRQ). */
export const VIRTIO_IRQ = 1;
/** Number of virtio-mmio slots (QEMU VIRTIO_COUNT). */
export const VIRTIO_COUNT = 8;
/** PLIC sources (`riscv,ndev` as QEMU 7.2 writes it). */
export const VIRT_IRQCHIP_NUM_SOURCES = 96;
/** mtime frequency (QEMU RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ). */
export const VIRT_TIMEBASE_FREQ = 10_000_000;
/** ns16550a input clock (QEMU: 399193 × 16 = 3686400 Hz, the "clock-frequency" of the UART node). */
export const VIRT_UART_CLOCK = 3686400;

/** Interrupt numbers of the hart-local interrupt controller (QEMU IRQ_*). */
const IRQ_M_SOFT = 3, IRQ_M_TIMER = 7, IRQ_S_EXT = 9, IRQ_M_EXT = 11;

/** What the generated tree depends on. */
export interface VirtFdtConfig {
  /** Number of harts (hart ids 0..n-1). */
  readonly cpus: number;
  /** `riscv,isa` of every hart. */
  readonly isa: string;
  /** `mmu-type` of every hart (`riscv,sv48`, `riscv,sv39`, `riscv,sv32`). */
  readonly mmuType: string;
  /** RAM size in bytes (RAM starts at {@link VIRT_MEMMAP}.dram.base). */
  readonly memSize: bigint;
  /** Include the flash node (default true). */
  readonly flash?: boolean;
  /** Include the RTC node (default true). */
  readonly rtc?: boolean;
  /** Include the UART node and `/chosen/stdout-path` (default true). */
  readonly uart?: boolean;
  /** Include the test device node and the `poweroff`/`reboot` syscon nodes that use it (default true). */
  readonly test?: boolean;
  /** The virtio-mmio slots to describe (default all, 0..7). */
  readonly virtio?: readonly number[];
}

/**
 * Builds the board's device tree as QEMU 7.2 create_fdt() does (create_fdt_socket_cpus, _memory, _clint,
 * _plic, create_fdt_virtio, create_fdt_reset, _uart, _rtc, _flash), everything but `/chosen`'s boot
 * arguments (see {@link setChosenBootArgs}). Nodes and properties are added in the order
 * `dtc -I dtb -O dts` shows for QEMU's blob, and phandles are numbered as QEMU numbers them.
 *
 * Differences from QEMU 7.2, for what softboard does not emulate: no `/pmu` (no Sscofpmf counters),
 * no `/fw-cfg@10100000`, no `/platform-bus@4000000`, no `/soc/pci@30000000`, no `/chosen/rng-seed`;
 * `riscv,isa` lists the extensions the CPU model implements.
 */
export function createVirtFdt(cfg: VirtFdtConfig): Fdt {
  const m = VIRT_MEMMAP;
  const fdt = new Fdt();
  const root = fdt.root;
  root.setPropU32('#address-cells', 2);
  root.setPropU32('#size-cells', 2);
  root.setPropString('compatible', 'riscv-virtio');
  root.setPropString('model', 'riscv-virtio,qemu');

  // Phandles are handed out in QEMU's order: harts from the last one down (cpu, then its intc), then
  // the PLIC, then the test device (syscon).
  const cpuPhandle: number[] = [];
  const intcPhandle: number[] = [];
  for (let i = cfg.cpus - 1; i >= 0; i--) {
    cpuPhandle[i] = fdt.allocPhandle();
    intcPhandle[i] = fdt.allocPhandle();
  }
  const plicPhandle = fdt.allocPhandle();
  const hasTest = cfg.test !== false;
  const testPhandle = hasTest ? fdt.allocPhandle() : 0;

  if (cfg.flash !== false) {
    const half = m.flash.size / 2n;
    const flash = root.addNode(`flash@${hex(m.flash.base)}`);
    flash.setPropU32('bank-width', 4);
    flash.setPropCells('reg', [...regCells(m.flash.base, half), ...regCells(m.flash.base + half, half)]);
    flash.setPropString('compatible', 'cfi-flash');
  }

  const chosen = root.addNode('chosen');
  if (cfg.uart !== false) chosen.setPropString('stdout-path', `/soc/serial@${hex(m.uart0.base)}`);

  for (const [name, value] of hasTest ? [['poweroff', FINISHER_PASS], ['reboot', FINISHER_RESET]] as const : []) {
    const n = root.addNode(name);
    n.setPropU32('value', value);
    n.setPropU32('offset', 0);
    n.setPropU32('regmap', testPhandle);
    n.setPropString('compatible', `syscon-${name}`);
  }

  const mem = root.addNode(`memory@${hex(m.dram.base)}`);
  mem.setPropString('device_type', 'memory');
  mem.setPropCells('reg', regCells(m.dram.base, cfg.memSize));

  const cpus = root.addNode('cpus');
  cpus.setPropU32('#address-cells', 1);
  cpus.setPropU32('#size-cells', 0);
  cpus.setPropU32('timebase-frequency', VIRT_TIMEBASE_FREQ);
  for (let i = 0; i < cfg.cpus; i++) {
    const cpu = cpus.addNode(`cpu@${i}`);
    cpu.setPropU32('phandle', cpuPhandle[i]!);
    cpu.setPropString('device_type', 'cpu');
    cpu.setPropU32('reg', i);
    cpu.setPropString('status', 'okay');
    cpu.setPropString('compatible', 'riscv');
    cpu.setPropString('riscv,isa', cfg.isa);
    cpu.setPropString('mmu-type', cfg.mmuType);
    const intc = cpu.addNode('interrupt-controller');
    intc.setPropU32('#interrupt-cells', 1);
    intc.setPropEmpty('interrupt-controller');
    intc.setPropString('compatible', 'riscv,cpu-intc');
    intc.setPropU32('phandle', intcPhandle[i]!);
  }
  const cluster = cpus.addNode('cpu-map').addNode('cluster0');
  for (let i = 0; i < cfg.cpus; i++) cluster.addNode(`core${i}`).setPropU32('cpu', cpuPhandle[i]!);

  const soc = root.addNode('soc');
  soc.setPropU32('#address-cells', 2);
  soc.setPropU32('#size-cells', 2);
  soc.setPropString('compatible', 'simple-bus');
  soc.setPropEmpty('ranges');

  if (cfg.rtc !== false) {
    const rtc = soc.addNode(`rtc@${hex(m.rtc.base)}`);
    rtc.setPropU32('interrupts', RTC_IRQ);
    rtc.setPropU32('interrupt-parent', plicPhandle);
    rtc.setPropCells('reg', regCells(m.rtc.base, m.rtc.size));
    rtc.setPropString('compatible', 'google,goldfish-rtc');
  }

  if (cfg.uart !== false) {
    const uart = soc.addNode(`serial@${hex(m.uart0.base)}`);
    uart.setPropU32('interrupts', UART0_IRQ);
    uart.setPropU32('interrupt-parent', plicPhandle);
    uart.setPropU32('clock-frequency', VIRT_UART_CLOCK);
    uart.setPropCells('reg', regCells(m.uart0.base, m.uart0.size));
    uart.setPropString('compatible', 'ns16550a');
  }

  if (hasTest) {
    const test = soc.addNode(`test@${hex(m.test.base)}`);
    test.setPropU32('phandle', testPhandle);
    test.setPropCells('reg', regCells(m.test.base, m.test.size));
    test.setPropStringList('compatible', ['sifive,test1', 'sifive,test0', 'syscon']);
  }

  const virtioSlots = new Set(cfg.virtio ?? Array.from({ length: VIRTIO_COUNT }, (_, i) => i));
  for (let i = VIRTIO_COUNT - 1; i >= 0; i--) {
    if (!virtioSlots.has(i)) continue;
    const base = m.virtio.base + BigInt(i) * m.virtio.size;
    const v = soc.addNode(`virtio_mmio@${hex(base)}`);
    v.setPropU32('interrupts', VIRTIO_IRQ + i);
    v.setPropU32('interrupt-parent', plicPhandle);
    v.setPropCells('reg', regCells(base, m.virtio.size));
    v.setPropString('compatible', 'virtio,mmio');
  }

  const plic = soc.addNode(`plic@${hex(m.plic.base)}`);
  plic.setPropU32('phandle', plicPhandle);
  plic.setPropU32('riscv,ndev', VIRT_IRQCHIP_NUM_SOURCES);
  plic.setPropCells('reg', regCells(m.plic.base, m.plic.size));
  plic.setPropCells('interrupts-extended', intcPhandle.flatMap((p) => [p, IRQ_M_EXT, p, IRQ_S_EXT]));
  plic.setPropEmpty('interrupt-controller');
  plic.setPropStringList('compatible', ['sifive,plic-1.0.0', 'riscv,plic0']);
  plic.setPropU32('#address-cells', 0);
  plic.setPropU32('#interrupt-cells', 1);

  const clint = soc.addNode(`clint@${hex(m.clint.base)}`);
  clint.setPropCells('interrupts-extended', intcPhandle.flatMap((p) => [p, IRQ_M_SOFT, p, IRQ_M_TIMER]));
  clint.setPropCells('reg', regCells(m.clint.base, m.clint.size));
  clint.setPropStringList('compatible', ['sifive,clint0', 'riscv,clint0']);

  return fdt;
}

/** Boot arguments QEMU puts in `/chosen` (virt_machine_done / create_fdt). */
export interface ChosenBootArgs {
  /** `-append`: `bootargs`. */
  readonly bootargs?: string | undefined;
  /** `-initrd`: the loaded range `[start, end)`. */
  readonly initrd?: { readonly start: bigint; readonly end: bigint } | undefined;
}

/** Sets `/chosen` boot arguments in `fdt` (creating `/chosen` if a user tree lacks it). */
export function setChosenBootArgs(fdt: Fdt, args: ChosenBootArgs): void {
  const chosen = fdt.addPath('/chosen');
  if (args.bootargs !== undefined && args.bootargs !== '') chosen.setPropString('bootargs', args.bootargs);
  if (args.initrd) {
    // QEMU 7.2 writes one cell (qemu_fdt_setprop_cell); two are needed only above 4 GiB.
    const set = (name: string, v: bigint): void => {
      if (v <= 0xffffffffn) chosen.setPropU32(name, Number(v));
      else chosen.setPropU64(name, v);
    };
    set('linux,initrd-start', args.initrd.start);
    set('linux,initrd-end', args.initrd.end);
  }
}

function hex(v: bigint): string {
  return v.toString(16);
}

/** `<hi lo hi lo>` for #address-cells = #size-cells = 2. */
function regCells(base: bigint, size: bigint): number[] {
  const c = (v: bigint): number[] => [Number(v >> 32n), Number(v & 0xffffffffn)];
  return [...c(base), ...c(size)];
}

// ---- the board -------------------------------------------------------------------------------------

/** Options of {@link createVirtMachine}. Images are bytes: file paths are Node-only (src/node/files.ts). */
export interface VirtMachineOptions<S extends Chardev = Chardev> {
  /** `riscv64` (default) or `riscv32` (what qemu-system-riscv32 -M virt is). */
  readonly arch?: 'riscv64' | 'riscv32';
  /** RAM size: `'128M'` (default), `'1G'`, or bytes. A number without suffix is MiB, as QEMU's `-m`. */
  readonly memory?: string | number | bigint;
  /** Number of harts (default 1). */
  readonly cpus?: number;
  /** ISA string of the harts (default: everything the CPU model implements for the XLEN). */
  readonly isa?: string;
  /**
   * Firmware (`-bios`): an ELF or a raw image loaded at 0x8000_0000, or `'none'` (default: softboard
   * ships no OpenSBI) to start the kernel directly.
   */
  readonly bios?: Uint8Array | 'none';
  /** Kernel (`-kernel`): an ELF, or a raw image loaded at the kernel address. */
  readonly kernel?: Uint8Array;
  /** Initial RAM disk (`-initrd`). */
  readonly initrd?: Uint8Array;
  /** Kernel command line (`-append`) → `/chosen/bootargs`. */
  readonly append?: string;
  /** A device tree blob (`-dtb`) used instead of the generated one (bootargs/initrd are still set in it). */
  readonly dtb?: Uint8Array;
  /** Names of the images, for error messages (default: `bios`, `kernel`…). */
  readonly names?: { readonly bios?: string; readonly kernel?: string; readonly initrd?: string; readonly dtb?: string };
  /** The first UART's chardev (default: a new {@link BufferChardev}: `machine.serial.output`, `.feed()`). */
  readonly serial?: S;
  /**
   * TCG backend (default `auto`: closures first, hot code recompiled into the wasm tier where shared
   * WebAssembly memory exists, else to generated JS where `new Function` is allowed; `closure`, `js`,
   * `wasm`, or `interp`, the slow reference interpreter), or a backend object.
   */
  readonly backend?: TcgBackendName | Backend;
  /** Logger or logger options (`{ mask: 'guest_errors,unimp', sink }`). */
  readonly log?: Logger | LoggerOptions;
  /** Virtual ns per instruction = 2^icountShift (default 2); see src/machine/machine.ts. */
  readonly icountShift?: number;
  /** Main-loop host clocks (tests pin them). */
  readonly mainLoop?: MainLoopOptions;
  /**
   * The goldfish RTC (QEMU `-rtc clock=…,base=…`): `clock` `vm` (default here: it follows the virtual
   * clock, so runs are reproducible), `host` (QEMU's default) or `rt`; `base` `utc` (default: the host's
   * time at creation) or `YYYY-MM-DDTHH:MM:SS`. Fix `base` too for a fully deterministic run.
   */
  readonly rtc?: { readonly clock?: 'host' | 'vm' | 'rt'; readonly base?: string };
}

/** A bad board option or an image that does not fit the board. */
export class VirtMachineError extends MachineError {
  override name = 'VirtMachineError';
}

/** Where things went at boot (for tests, debugging and the CLI's `-d` output). */
export interface VirtBootInfo {
  /** Address the boot stub jumps to. */
  readonly startAddr: bigint;
  /** End of the firmware (its start without one). */
  readonly firmwareEnd: bigint;
  /** Kernel entry (next_addr of fw_dynamic_info), or null without a kernel. */
  readonly kernelEntry: bigint | null;
  /** Initrd range, if any. */
  readonly initrd: { readonly start: bigint; readonly end: bigint } | null;
  /** Where the FDT was placed, and its size. */
  readonly fdtAddr: bigint;
  readonly fdtSize: number;
}

const MiB = 1n << 20n;

/** Maximum harts (QEMU VIRT_CPUS_MAX is 512; the PLIC contexts here are sized for that). */
export const VIRT_CPUS_MAX = 512;

/** The board's name: its memory regions are `riscv_virt_board.ram` and `.mrom`, as QEMU names them. */
export const VIRT_BOARD_NAME = 'riscv_virt_board';

/**
 * The virt board as data: what {@link createVirtMachine} builds, through the same machinery as
 * {@link defineBoard} (checks, memory, harts, ACLINT, PLIC, devices, chardevs). The options that shape
 * the board (arch, memory, cpus, isa, rtc) are in the data; the images (bios, kernel, initrd, dtb,
 * append) are used by its `boot` hook, which also takes {@link BoardOptions.firmware} as the bios when
 * the spec is given to `defineBoard`. Copy and change it to make a variant:
 * ```ts
 * const spec = virtBoardSpec({ memory: '256M' });
 * const createMyVirt = defineBoard({
 *   ...spec,
 *   devices: [...spec.devices!.filter((d) => d.id !== 'rtc'),
 *             { type: 'my-gpio', id: 'gpio', at: 0x1006_0000, irq: 12 }],
 * });
 * const m = createMyVirt({ firmware: elf }); // its device tree has no rtc node and a gpio node
 * ```
 * Its `fdt` hook returns QEMU's tree ({@link createVirtFdt}) for the devices of virt that the spec still
 * has at their QEMU addresses, plus the generic node of every other device (under `/soc`, after
 * QEMU's nodes), or the `dtb` option's tree.
 * @throws VirtMachineError for a bad arch, cpus or memory option.
 */
export function virtBoardSpec(options: VirtMachineOptions = {}): BoardSpec {
  const arch = options.arch ?? 'riscv64';
  if (arch !== 'riscv64' && arch !== 'riscv32') throw new VirtMachineError(`arch must be 'riscv64' or 'riscv32', got '${String(arch)}'`);
  const ramSize = parseMemorySize(options.memory ?? '128M');
  const cpus = options.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > VIRT_CPUS_MAX) {
    throw new VirtMachineError(`cpus must be an integer 1..${VIRT_CPUS_MAX}, got ${cpus}`);
  }
  const m = VIRT_MEMMAP;
  const half = m.flash.size / 2n;
  return {
    name: VIRT_BOARD_NAME,
    // virt_machine_init: harts start in the boot ROM.
    cpu: {
      arch, count: cpus, resetVector: m.mrom.base, timebaseFreq: VIRT_TIMEBASE_FREQ,
      isa: options.isa ?? (arch === 'riscv64' ? DEFAULT_RISCV_ISA : 'rv32imafdc_zicsr_zifencei_zba_zbb_zbc_zbs'),
    },
    memory: [
      { name: 'ram', kind: 'ram', base: m.dram.base, size: ramSize },
      { name: 'mrom', kind: 'rom', base: m.mrom.base, size: m.mrom.size },
    ],
    // ACLINT as QEMU 7.2 virt with aclint=off: MSWI at the base, MTIMER at +0x4000.
    clint: { base: m.clint.base },
    // sifive_plic_create with the virt layout, hart config "MS" per hart.
    interruptController: { type: 'plic', base: m.plic.base, sources: VIRT_PLIC.numSources, size: m.plic.size },
    devices: [
      // Two CFI flash banks (QEMU virt_flash_create1 / virt_flash_map1): 256 KiB sectors, a 4-byte bank
      // of two x16 chips, Intel IDs 0x89/0x18; QOM /machine/virt.flash<i> as QEMU.
      ...[0, 1].map((i): BoardDeviceSpec => ({
        type: TYPE_PFLASH_CFI01, id: `flash${i}`, path: `/machine/virt.flash${i}`, at: m.flash.base + BigInt(i) * half,
        props: {
          sectorLength: VIRT_FLASH_SECTOR_SIZE, numBlocks: Number(half / VIRT_FLASH_SECTOR_SIZE), width: 4, deviceWidth: 2,
          bigEndian: false, id0: 0x89, id1: 0x18, id2: 0x00, id3: 0x00, regionName: `virt.flash${i}`,
        },
      })),
      {
        type: TYPE_GOLDFISH_RTC, id: 'rtc', at: m.rtc.base, irq: RTC_IRQ,
        props: { rtcClock: options.rtc?.clock ?? 'vm', base: options.rtc?.base ?? 'utc' },
      },
      // virtio-mmio transports, slot i at 0x1000_1000 + 0x1000·i, PLIC source 1 + i.
      ...Array.from({ length: VIRTIO_COUNT }, (_, i): BoardDeviceSpec => ({
        type: TYPE_VIRTIO_MMIO, id: `virtio${i}`, at: m.virtio.base + BigInt(i) * m.virtio.size, irq: VIRTIO_IRQ + i,
      })),
      { type: TYPE_SIFIVE_TEST, id: 'test', at: m.test.base },
      {
        type: TYPE_NS16550A, id: 'uart0', at: m.uart0.base, irq: UART0_IRQ,
        props: { chardev: 'serial0', baudbase: VIRT_UART_CLOCK / 16 },
      },
    ],
    fdt: (_generic, machine) => virtFdt(machine, options),
    boot: (machine, boardOptions) => virtBoot(machine, options, boardOptions),
  };
}

/** The default virt board (`-M virt` with no options) as data; see {@link virtBoardSpec}. */
export const RISCV_VIRT_BOARD: BoardSpec = virtBoardSpec();

/** Where each virt device is in QEMU's tree: what {@link createVirtFdt} describes. */
function virtDeviceAt(id: string): { readonly type: string; readonly base: bigint } | null {
  const m = VIRT_MEMMAP;
  const virtio = /^virtio([0-7])$/.exec(id);
  if (virtio) return { type: TYPE_VIRTIO_MMIO, base: m.virtio.base + BigInt(virtio[1]!) * m.virtio.size };
  switch (id) {
    case 'flash0': return { type: TYPE_PFLASH_CFI01, base: m.flash.base };
    case 'flash1': return { type: TYPE_PFLASH_CFI01, base: m.flash.base + m.flash.size / 2n };
    case 'rtc': return { type: TYPE_GOLDFISH_RTC, base: m.rtc.base };
    case 'test': return { type: TYPE_SIFIVE_TEST, base: m.test.base };
    case 'uart0': return { type: TYPE_NS16550A, base: m.uart0.base };
    default: return null;
  }
}

/** The virt spec's `fdt` hook: the `dtb` option's tree, or QEMU's for what the machine has. */
function virtFdt(machine: BoardMachine, options: VirtMachineOptions): Fdt {
  if (options.dtb !== undefined) return parseUserDtb(options.dtb, options.names?.dtb ?? 'dtb');
  const b = machine.spec.name;
  const ramSpec = machine.spec.memory.find((x) => x.name === 'ram' && x.kind === 'ram');
  const ram = machine.memories.get('ram');
  if (!ramSpec || !ram || BigInt(ramSpec.base) !== VIRT_MEMMAP.dram.base) {
    throw new BoardError(`board '${b}': virt's device tree and boot need RAM 'ram' at 0x${VIRT_MEMMAP.dram.base.toString(16)}`);
  }
  if (!machine.plic || !machine.mswi) throw new BoardError(`board '${b}': virt's device tree needs its PLIC and CLINT`);
  // A device is one of QEMU's nodes if it is virt's at virt's address; any other gets its generic node.
  const ours = new Set<string>();
  for (const d of machine.spec.devices ?? []) {
    const v = virtDeviceAt(d.id);
    const at = d.at === undefined ? undefined : Array.isArray(d.at) ? d.at[0] : d.at;
    if (v && d.type === v.type && at !== undefined && BigInt(at as BoardAddress) === v.base && d.fdt === undefined) ours.add(d.id);
  }
  const fdt = createVirtFdt({
    cpus: machine.harts.length, isa: machine.harts[0]!.isaString + '_sstc', mmuType: machine.xlen === 32 ? 'riscv,sv32' : 'riscv,sv48',
    memSize: ram.size, flash: ours.has('flash0') && ours.has('flash1'), rtc: ours.has('rtc'), uart: ours.has('uart0'), test: ours.has('test'),
    virtio: Array.from({ length: VIRTIO_COUNT }, (_, i) => i).filter((i) => ours.has(`virtio${i}`)),
  });
  const soc = fdt.node('/soc')!;
  const plicPhandle = fdt.node(`/soc/plic@${hex(VIRT_MEMMAP.plic.base)}`)!.getPropU32('phandle')!;
  for (const d of machine.spec.devices ?? []) {
    if (!ours.has(d.id) && !/^flash[01]$/.test(d.id)) machine.addFdtDeviceNode(soc, d.id, { plicPhandle });
  }
  return fdt;
}

/**
 * The virt spec's `boot` hook (QEMU virt_machine_done): loads the firmware at the start of RAM, the
 * kernel and initrd, sets `/chosen`, places the FDT and writes the reset stub and fw_dynamic_info
 * into the boot ROM. @returns the FDT placement and a {@link VirtBootInfo} as `details`.
 */
function virtBoot(machine: BoardMachine, options: VirtMachineOptions, boardOptions: BoardOptions): BoardBootResult {
  const m = VIRT_MEMMAP;
  const xlen = machine.xlen;
  const ramSize = machine.memories.get('ram')!.size;
  const fdt = machine.fdt;
  if (fdt === null) throw new BoardError(`board '${machine.spec.name}': virt's boot needs a device tree (fdt must not be false)`);
  const names = { bios: boardOptions.firmwareName ?? 'bios', kernel: 'kernel', initrd: 'initrd', dtb: 'dtb', ...options.names };
  const load = new VirtLoader(machine, ramSize);

  let firmwareEnd: bigint = m.dram.base;
  const bios = options.bios ?? boardOptions.firmware ?? 'none';
  if (bios !== 'none') firmwareEnd = load.image(names.bios, bios, m.dram.base).end;
  let kernelEntry: bigint | null = null;
  let initrd: VirtBootInfo['initrd'] = null;
  if (options.kernel !== undefined) {
    const k = load.image(names.kernel, options.kernel, kernelStartAddr(xlen, firmwareEnd));
    kernelEntry = k.entry;
    if (options.initrd !== undefined) {
      const start = initrdStartAddr(k.entry, ramSize);
      load.blob(names.initrd, start, options.initrd);
      initrd = { start, end: start + BigInt(options.initrd.length) };
    }
  } else if (options.initrd !== undefined) {
    throw new VirtMachineError(`an initrd needs a kernel (as QEMU's -initrd needs -kernel)`);
  }
  setChosenBootArgs(fdt, { bootargs: options.append, initrd: initrd ?? undefined });
  const fdtBlob = fdt.toBlob();
  const fdtAddr = fdtLoadAddr(m.dram.base, ramSize, fdtBlob.length);
  load.blob('fdt', fdtAddr, fdtBlob);

  // QEMU 7.2 starts the firmware at the start of RAM; without firmware, softboard jumps to the kernel entry.
  const startAddr = bios === 'none' && kernelEntry !== null ? kernelEntry : m.dram.base;
  machine.addRom('mrom.reset', m.mrom.base, resetVectorBytes(xlen, startAddr, fdtAddr));
  machine.addRom('mrom.finfo', m.mrom.base + BigInt(RESET_VEC_SIZE), fwDynamicInfoBytes(xlen, kernelEntry ?? 0n));
  const details: VirtBootInfo = { startAddr, firmwareEnd, kernelEntry, initrd, fdtAddr, fdtSize: fdtBlob.length };
  return { fdtAddr, fdtBlob, details };
}

/** Places images in a virt machine's memory, with errors naming the image and the map. */
class VirtLoader {
  constructor(private readonly machine: BoardMachine, private readonly ramSize: bigint) {}

  /**
   * Loads an ELF (at its physical addresses) or a raw image (at `rawAddr`), as QEMU riscv_load_firmware
   * / riscv_load_kernel. @returns the entry and the end of what was loaded.
   */
  image(name: string, bytes: Uint8Array, rawAddr: bigint): { entry: bigint; end: bigint } {
    if (isElf(bytes)) {
      let image: ElfImage;
      try {
        image = parseElf(bytes, { machine: EM_RISCV });
      } catch (e) {
        throw new VirtMachineError(`${name}: ${(e as Error).message}`, { cause: e });
      }
      if (image.class !== this.machine.xlen) {
        throw new VirtMachineError(`${name} is a ${image.class}-bit ELF but the machine is riscv${this.machine.xlen}`);
      }
      for (const seg of image.segments) this.checkFits(`${name} segment ${seg.index}`, seg.paddr, seg.memsz);
      // loadElf writes each segment's file bytes, then its zero fill in chunks: one ROM blob each.
      const r = loadElf(image, (addr, data) => this.machine.addRom(`${name} @0x${addr.toString(16)}`, addr, data));
      this.machine.addSymbols(image); // for machine.addBreakpoint('main') and traces
      return { entry: r.entry, end: r.highAddr };
    }
    this.blob(name, rawAddr, bytes);
    return { entry: rawAddr, end: rawAddr + BigInt(bytes.length) };
  }

  blob(name: string, addr: bigint, data: Uint8Array): void {
    this.checkFits(name, addr, BigInt(data.length));
    this.machine.addRom(name, addr, data);
  }

  /** Throws a VirtMachineError naming `what` if `[addr, addr+len)` is not all RAM/ROM. */
  private checkFits(what: string, addr: bigint, len: bigint): void {
    if (len === 0n) return;
    const bad = this.machine.firstNonMemory(addr, len);
    if (bad === null) return;
    const m = VIRT_MEMMAP;
    throw new VirtMachineError(
      `${what} at 0x${addr.toString(16)} (0x${len.toString(16)} bytes) does not fit in memory: 0x${bad.toString(16)} is ` +
      `${this.machine.describeAddress(bad)}; RAM is 0x${m.dram.base.toString(16)}-0x${(m.dram.base + this.ramSize - 1n).toString(16)} ` +
      `(${this.ramSize / MiB} MiB), mrom 0x${m.mrom.base.toString(16)}-0x${(m.mrom.base + m.mrom.size - 1n).toString(16)}`);
  }
}

/**
 * The RISC-V virt machine; make one with {@link createVirtMachine}. It is the {@link BoardMachine} of
 * {@link virtBoardSpec}, with virt's devices as typed fields. `S` is the type of its serial chardev
 * ({@link BufferChardev} unless another was given).
 */
export class RiscvVirtMachine<S extends Chardev = BufferChardev> extends BoardMachine<S> {
  /** RAM size in bytes. */
  readonly ramSize: bigint;
  readonly ram: MemoryRegion;
  readonly mrom: MemoryRegion;
  /** The two flash banks' regions (`virt.flash0` at 0x2000_0000, `virt.flash1` at 0x2200_0000). */
  readonly flash: readonly MemoryRegion[];
  /** The two CFI flash devices (QEMU virt.flash0/1): fill `storage` to give the guest flash contents. */
  readonly pflash: readonly PFlashCfi01[];
  readonly uart: Ns16550a;
  readonly test: SifiveTest;
  /** ACLINT software interrupts (CLINT msip) at 0x0200_0000. */
  declare readonly mswi: RiscvAclintSwi;
  /** ACLINT machine timer (CLINT mtimecmp/mtime) at 0x0200_4000. */
  declare readonly mtimer: RiscvAclintMtimer;
  /** The PLIC at 0x0c00_0000: context 2h is hart h's M mode (MEIP), 2h+1 its S mode (SEIP). */
  declare readonly plic: SifivePlic;
  readonly rtc: GoldfishRtc;
  /** The eight virtio-mmio transports (empty slots until a device is plugged). */
  readonly virtio: readonly VirtioMmio[];
  /** The device tree handed to the guest (the generated one, or the `dtb` option's, with /chosen set). */
  declare readonly fdt: Fdt;
  /** The FDT blob at {@link VirtBootInfo.fdtAddr}. */
  declare readonly fdtBlob: Uint8Array;
  readonly bootInfo: VirtBootInfo;

  constructor(options: VirtMachineOptions<S> = {}) {
    const spec = virtBoardSpec(options);
    checkBoardSpec(spec); // what defineBoard checks
    super(spec, {
      ...(options.serial !== undefined ? { chardevs: { serial0: options.serial } } : {}),
      ...(options.log !== undefined ? { log: options.log } : {}),
      ...(options.icountShift !== undefined ? { icountShift: options.icountShift } : {}),
      ...(options.mainLoop !== undefined ? { mainLoop: options.mainLoop } : {}),
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
    });
    this.ram = this.memories.get('ram')!;
    this.ramSize = this.ram.size;
    this.mrom = this.memories.get('mrom')!;
    this.pflash = [this.dev<PFlashCfi01>('flash0'), this.dev<PFlashCfi01>('flash1')];
    this.flash = this.pflash.map((d) => d.region);
    this.rtc = this.dev<GoldfishRtc>('rtc');
    this.virtio = Array.from({ length: VIRTIO_COUNT }, (_, i) => this.dev<VirtioMmio>(`virtio${i}`));
    this.test = this.dev<SifiveTest>('test');
    this.uart = this.dev<Ns16550a>('uart0');
    this.bootInfo = this.bootResult!.details as VirtBootInfo;
  }
}

function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

function parseUserDtb(blob: Uint8Array, name: string): Fdt {
  try {
    return parseFdt(blob);
  } catch (e) {
    throw new VirtMachineError(`${name}: not a valid device tree blob: ${(e as Error).message}`, { cause: e });
  }
}

/** `-m` semantics: a plain number is MiB (QEMU), a string may carry a suffix. */
function parseMemorySize(v: string | number | bigint): bigint {
  let size: bigint;
  try {
    size = typeof v === 'string' ? parseSize(v, { defaultSuffix: 'M' }) : BigInt(v) * MiB;
  } catch (e) {
    throw new VirtMachineError(`memory: ${(e as Error).message}`, { cause: e });
  }
  if (size < 16n * MiB || size % 4096n !== 0n || size > 4n * (1n << 30n)) {
    throw new VirtMachineError(`memory must be a multiple of 4 KiB between 16M and 4G, got ${v}`);
  }
  return size;
}

/**
 * Creates, realizes and resets a RISC-V virt machine (as `qemu-system-riscv64 -M virt …`), built from
 * {@link virtBoardSpec} by the {@link defineBoard} machinery:
 * ```ts
 * const m = createVirtMachine({ bios: 'none', kernel: elfBytes });
 * m.run({ timeoutMs: 5000 });
 * console.log(m.serial.output, m.shutdownInfo);
 * ```
 */
export function createVirtMachine<S extends Chardev = BufferChardev>(options: VirtMachineOptions<S> = {}): RiscvVirtMachine<S> {
  return new RiscvVirtMachine<S>(options);
}
