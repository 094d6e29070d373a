/**
 * The machine: what ties a board together and runs it (QEMU hw/core/machine.c MachineState, the run
 * loop of softmmu/cpus.c + accel/tcg/tcg-accel-ops-rr.c in icount mode, softmmu/runstate.c for
 * shutdown and reset requests, hw/core/loader.c for the ROM blobs re-copied at every reset).
 *
 * A {@link Machine} owns, for one emulated computer and nothing else: a {@link MainLoop} (virtual clock,
 * timers, bottom halves), a {@link Logger}, a {@link ChardevRegistry}, the QOM tree (`/machine/...`),
 * the system memory (a container region and its {@link AddressSpace}), the CPUs, the ROM blobs, and an
 * event emitter ({@link MachineEvents}: `shutdown`, `reset`, `output`, `mmio`, `irq`, `halt`, and every
 * CPU's execution hooks `insn`, `tb`, `mem:read`, `mem:write`, `exception`, `interrupt` naming the CPU,
 * each free while nobody listens). A board (e.g. `src/hw/riscv/virt.ts`) creates the
 * devices, maps them, wires their IRQs and calls the `add*` methods; the embedding program then calls
 * {@link Machine.run}.
 *
 * ## Time (icount)
 * Virtual time is derived from the number of guest instructions executed, as QEMU `-icount shift=N`
 * with `sleep=off`: each instruction advances the virtual clock by `2^icountShift` ns (default shift 2:
 * 4 ns, a 250 MHz hart; the 10 MHz mtimer then ticks every 25 instructions, so U-Boot's busy-wait
 * delays cost 250 M instructions per guest second). When every CPU waits for an interrupt (WFI) the
 * clock jumps to the next timer deadline. The clock is exact at every device access a CPU makes:
 * before an MMIO access (and before the `time` CSR is read) the clock is brought up to the current
 * instruction, firing the timers that expired on the way. The same program with the same inputs
 * therefore always executes the same instructions, prints the same output and ends at the same
 * virtual time.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { CpuRunOptions, CpuRunResult, TcgBackendName, TcgConfig } from '../hw/core/cpu.js';
import { CpuState, tcgBackend } from '../hw/core/cpu.js';
import { symbolAt, type ElfImage } from '../hw/core/elf.js';
import { mapPeripheralStub, type PeripheralStub, type PeripheralStubOptions } from '../hw/misc/peripheral-stub.js';
import { TARGET_PAGE_SIZE } from '../accel/tcg/tcg-cpu-ops.js';
import type { TranslationBlock } from '../accel/tcg/tb-cache.js';
import {
  formatTlbFill, parseTraceItems, rawTraceTarget, TraceSession, type TraceHandle, type TraceOptions, type TraceTarget,
} from '../util/trace.js';
import { didYouMean } from '../qom/suggest.js';
import { resetTree } from '../hw/core/device.js';
import { IrqLine, type IrqLevelHandler } from '../hw/core/irq.js';
import type { TcgAddressSpace } from '../accel/tcg/tlb.js';
import { TbCache } from '../accel/tcg/tb-cache.js';
import type { Backend } from '../tcg/backend/backend.js';
import { AddressSpace } from '../memory/address-space.js';
import { MemoryRegion } from '../memory/region.js';
import type { RamAllocator } from '../memory/ram.js';
import { createMachineRoot, type MachineRoot } from '../qom/container.js';
import { containerGet, resolvePath, type QObject } from '../qom/object.js';
import { Chardev } from '../chardev/char.js';
import { ChardevRegistry } from '../chardev/registry.js';
import { Logger, type LoggerOptions } from '../util/log.js';
import { MainLoop, type MainLoopOptions, type RunResult as LoopRunResult } from '../util/main-loop.js';
import { parseDuration } from '../util/size.js';
import { SoftboardError } from '../util/errors.js';
import { restoreSnapshot, takeSnapshot, type MachineSnapshot, type MachineSnapshotAccess } from '../migration/snapshot.js';

/** A machine was used wrongly (bad option, unknown device path, overlapping images…). */
export class MachineError extends SoftboardError {
  override name = 'MachineError';
}

/**
 * What the machine needs of a CPU: the run/step interface of `CpuState` (src/hw/core/cpu.ts), which
 * every target's CPU class provides.
 */
export interface MachineCpu {
  /** Guest instructions executed since creation, exact even in the middle of a TB. */
  readonly icount: number;
  /** Halted in WFI. */
  readonly halted: boolean;
  pc: bigint;
  run(options?: CpuRunOptions): CpuRunResult;
  /** Asks a running CPU to return at the next TB boundary (QEMU cpu_exit). */
  exit(): void;
  getRegister(name: string): bigint;
  setRegister(name: string, value: bigint): void;
  setAddressSpace(as: TcgAddressSpace): void;
  configureTcg(config: TcgConfig): void;
  /** The machine's log, given to the CPU by {@link Machine.addCpu} (`-d int` traps, `-d mmu`…). */
  log?: Logger;
}

/** How the guest (or the host) ended the machine. */
export interface ShutdownInfo {
  /**
   * `pass`: the guest powered off / reported success (sifive_test 0x5555, PSCI SYSTEM_OFF);
   * `fail`: the guest reported failure with {@link status} (sifive_test `(code << 16) | 0x3333`);
   * `host`: {@link Machine.shutdown} was called by the embedding program.
   */
  readonly kind: 'pass' | 'fail' | 'host';
  /** Exit status, as QEMU's process exit status: 0 for pass, the guest's code for fail. */
  readonly status: number;
}

/** Events of a {@link Machine}. */
export interface MachineEvents {
  /** The guest powered off or reported pass/fail; runs return with reason `shutdown`. */
  shutdown: [info: ShutdownInfo];
  /** The machine was reset (by {@link Machine.reset} or a guest reset request). */
  reset: [];
  /** Bytes the guest wrote to its first serial port. */
  output: [bytes: Uint8Array];
  /** A CPU accessed a device (any physical access outside the RAM fast path), after the access. */
  mmio: [access: MmioAccess];
  /**
   * An interrupt line changed level: a device's IRQ output (`kind: 'device'`, e.g. the UART raising
   * PLIC source 10) or an interrupt input of a CPU (`kind: 'cpu'`, e.g. hart 0's MEIP). Only changes
   * are reported (lines are often set again to the same level). A device event comes before what it
   * causes: the UART's rise is reported, then the PLIC raising MEIP, then the trap. Boards report the
   * lines they wire with {@link Machine.irqWire}; boards built by `defineBoard` (and virt) report all.
   */
  irq: [event: IrqEvent];
  /**
   * A CPU stopped to wait for an interrupt (WFI with nothing pending: QEMU's `cpu->halted`), reported
   * once per halt when its run slice ends. {@link Machine.run} with `until: 'halt'` returns when every
   * CPU is halted, so after the `halt` event of the last one to halt.
   */
  halt: [event: HaltEvent];

  // -- a CPU's execution hooks (src/hw/core/cpu.ts CpuEvents), for every CPU, naming it --
  // The machine listens to a CPU hook only while it has a listener for that event (the first `on`
  // subscribes every CPU, CPUs added later included; the last `off` unsubscribes them), so an event
  // nobody listens to costs nothing. Each CPU's own `hooks` emitter remains for per-CPU use.

  /** Before each guest instruction (while listened, translation makes one instruction per TB: slow). */
  insn: [event: InsnEvent];
  /** Before each translation block the CPU executes. */
  tb: [event: TbEvent];
  /** After each guest data load (while listened, every access takes the soft TLB's slow path). */
  'mem:read': [event: MemAccessEvent];
  /** After each guest data store, e.g. the UART THR write of each output byte. */
  'mem:write': [event: MemAccessEvent];
  /** A guest exception is about to be delivered; `pc` is the faulting instruction (QEMU cpu_handle_exception). */
  exception: [event: ExceptionEvent];
  /** A CPU took an interrupt (after delivery: the pc is the handler's). */
  interrupt: [event: InterruptEvent];
}

/** Payload of the {@link MachineEvents} `insn` event. */
export interface InsnEvent {
  /** Index of the CPU in {@link Machine.cpus} (the hart id on RISC-V boards). */
  readonly cpu: number;
  /** Virtual address of the instruction about to execute. */
  readonly pc: bigint;
}

/** Payload of the {@link MachineEvents} `tb` event. */
export interface TbEvent {
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  /** Virtual address of the block's first instruction. */
  readonly pc: bigint;
  /** Instructions in the block. */
  readonly insns: number;
}

/** Payload of the {@link MachineEvents} `mem:read` and `mem:write` events: one guest data access. */
export interface MemAccessEvent {
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  /** Guest-virtual address (the physical one for `mmio` events). */
  readonly addr: bigint;
  /** Bytes accessed. */
  readonly size: number;
  /** The value loaded or stored. */
  readonly value: bigint;
}

/** Payload of the {@link MachineEvents} `exception` event. */
export interface ExceptionEvent {
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  /** The instruction that raised the exception. */
  readonly pc: bigint;
  /**
   * The exception code (RISC-V `mcause`/`scause` without the interrupt bit: 2 illegal instruction,
   * 8/9/11 ecall from U/S/M…), when the board's {@link Machine.traceTarget} can describe traps.
   */
  readonly cause?: number;
}

/** Payload of the {@link MachineEvents} `interrupt` event. */
export interface InterruptEvent {
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  /** The interrupt code (RISC-V: 7 machine timer, 11 machine external…), when the board can tell it. */
  readonly cause?: number;
}

/** The {@link MachineEvents} that forward a CPU hook of the same name. */
const CPU_HOOK_EVENTS = ['insn', 'tb', 'mem:read', 'mem:write', 'exception', 'interrupt'] as const;
type CpuHookEvent = (typeof CPU_HOOK_EVENTS)[number];
type MachineEventName = keyof MachineEvents;
type MachineListener<E extends MachineEventName> = EventEmitter.EventListener<MachineEvents, E>;


/** Interrupt inputs of a RISC-V hart by their `mip` bit, for {@link CpuIrqEvent.name}. */
export type CpuIrqName = 'SSIP' | 'MSIP' | 'STIP' | 'MTIP' | 'SEIP' | 'MEIP' | `IRQ${number}`;

/** A CPU's interrupt input changed level ({@link MachineEvents} `irq`). */
export interface CpuIrqEvent {
  readonly kind: 'cpu';
  /** Index of the CPU in {@link Machine.cpus} (the hart id on RISC-V boards). */
  readonly cpu: number;
  /** The input's bit number in `mip` (3 MSIP, 7 MTIP, 9 SEIP, 11 MEIP). */
  readonly line: number;
  readonly name: CpuIrqName;
  /** The level of the wire (for SEIP: the external line, not ORed with the software-set bit). */
  readonly level: boolean;
}

/** A device's IRQ output changed level ({@link MachineEvents} `irq`). */
export interface DeviceIrqEvent {
  readonly kind: 'device';
  /** The device's id on the board (`uart0`). */
  readonly device: string;
  /** Which of its sysbus IRQ outputs (0 for most devices). */
  readonly output: number;
  /** The interrupt-controller input it drives: the PLIC source number, or the hart whose MEIP it drives on a board without a PLIC. */
  readonly source: number;
  readonly level: boolean;
}

/** Payload of the {@link MachineEvents} `irq` event. */
export type IrqEvent = CpuIrqEvent | DeviceIrqEvent;

/** Payload of the {@link MachineEvents} `halt` event. */
export interface HaltEvent {
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  /** Where the CPU resumes when woken: the instruction after its WFI. */
  readonly pc: bigint;
  /** The virtual time at the end of the run slice in which it halted (ns). */
  readonly timeNs: number;
}

/** The mip bit names of RISC-V's standard interrupts (privileged spec, table "mip"). */
const CPU_IRQ_NAMES: Readonly<Record<number, CpuIrqName>> = { 1: 'SSIP', 3: 'MSIP', 5: 'STIP', 7: 'MTIP', 9: 'SEIP', 11: 'MEIP' };

/** One device access by a CPU, as reported by the {@link MachineEvents} `mmio` event. */
export interface MmioAccess {
  readonly kind: 'read' | 'write';
  /** Guest-physical address. */
  readonly addr: bigint;
  readonly size: 1 | 2 | 4 | 8;
  /** The value read or written. */
  readonly value: bigint;
}

/** Why {@link Machine.run} returned. */
export type MachineStopReason =
  /** The guest shut the machine down (see {@link Machine.shutdownInfo}). */
  | 'shutdown'
  /** The `instructions` budget was executed. */
  | 'instructions'
  /** `until: 'halt'`: every CPU is waiting for an interrupt (each halt was reported by a `halt` event). */
  | 'halt'
  /** Every CPU waits for an interrupt and no timer is armed: only outside input can wake the guest. */
  | 'idle'
  /** The `until` predicate returned true. */
  | 'until'
  /** The virtual time given with `forNs`/`untilNs` was reached. */
  | 'time'
  /** `timeoutMs` of host time elapsed. */
  | 'timeout'
  /** {@link Machine.pause} was called. */
  | 'paused'
  /** A CPU reached a breakpoint. */
  | 'breakpoint'
  /** A CPU accessed a watched address ({@link Machine.addWatchpoint}); see {@link MachineRunResult.watchpoint}. */
  | 'watchpoint'
  /** A CPU kept taking exceptions without executing anything (its trap vector faults). */
  | 'stalled';

/** Options of {@link Machine.run}. */
export interface MachineRunOptions {
  /** Stop after this many guest instructions (all CPUs together). */
  readonly instructions?: number;
  /**
   * `'shutdown'` (default): run until the guest shuts down (or another limit);
   * `'halt'`: also stop as soon as every CPU is halted (WFI) instead of jumping the clock;
   * a function: also stop when it returns true. It is called at every TB boundary: keep it cheap
   * (to wait for serial output, use {@link Machine.runUntilOutput}).
   */
  readonly until?: 'halt' | 'shutdown' | (() => boolean);
  /** Stop after this much host (wall-clock) time, checked between run slices. */
  readonly timeoutMs?: number;
  /** Stop when the virtual clock has advanced by this much: ns, or a duration such as `'10ms'`. */
  readonly for?: number | bigint | string;
}

/** Result of {@link Machine.run}. */
export interface MachineRunResult {
  readonly reason: MachineStopReason;
  /** Guest instructions executed by this call (all CPUs). */
  readonly instructions: number;
  /** The virtual clock when the run stopped (ns). */
  readonly virtualTimeNs: number;
  /** With reason `watchpoint`: the access that hit. */
  readonly watchpoint?: WatchpointHit;
}

/** A watched range of guest virtual addresses ({@link Machine.addWatchpoint}). */
export interface Watchpoint {
  readonly addr: bigint;
  readonly len: bigint;
  /** Which accesses stop the run. */
  readonly kind: 'r' | 'w' | 'rw';
  /** Accesses that hit it so far. */
  hits: number;
}

/** The access that stopped a run with reason `watchpoint`. */
export interface WatchpointHit {
  readonly watchpoint: Watchpoint;
  /** Index of the CPU in {@link Machine.cpus}. */
  readonly cpu: number;
  readonly kind: 'r' | 'w';
  /** Virtual address and size of the access (it may cover more than the watched range). */
  readonly addr: bigint;
  readonly size: number;
  /** The value loaded or stored. */
  readonly value: bigint;
  /** pc of the instruction that made the access (the CPU's pc is now the next instruction). */
  readonly pc: bigint;
}

/** Options of {@link Machine}. */
export interface MachineOptions {
  /** A logger, or options for a new one (`-d` mask, sink). */
  readonly log?: Logger | LoggerOptions;
  /** Virtual ns per guest instruction = 2^icountShift (0..10, default 2). */
  readonly icountShift?: number;
  /** Host time sources of the main loop. */
  readonly mainLoop?: MainLoopOptions;
  /** TCG backend of the CPUs (default `auto`: see {@link TcgBackendName}). */
  readonly backend?: TcgBackendName | Backend;
  /** Longest virtual time a CPU runs before the loop looks at timers, input and limits (ns, default 1 ms). */
  readonly sliceNs?: number;
}

/** A guest image placed in memory at every reset (QEMU Rom, hw/core/loader.c). */
export interface RomBlob {
  /** What it is, for messages (`mrom.reset`, `fdt`, `kernel hello.elf segment 0`). */
  readonly name: string;
  readonly addr: bigint;
  readonly data: Uint8Array;
}

/** Options of {@link Machine.runUntilOutput}. */
export interface RunUntilOutputOptions {
  /** Give up after this many guest instructions. */
  readonly instructions?: number;
  /** Give up after this much host time. */
  readonly timeoutMs?: number;
  /** Instructions per slice between yields to the JS event loop (default 1,000,000). */
  readonly sliceInstructions?: number;
}

/** The virtual clock of a machine, as the embedding program sees it. */
export class MachineClock {
  constructor(private readonly machine: Machine<Chardev>) {}
  /** Virtual time in ns (exact to the instruction, even when read from a device callback). */
  get now(): number {
    return this.machine.virtualTimeNs;
  }
  /** Runs the machine (CPUs included) for `duration` of virtual time (`'10ms'`, or ns). */
  advance(duration: number | bigint | string): MachineRunResult {
    return this.machine.run({ for: duration });
  }
}

const MAX_ICOUNT_SHIFT = 10;

/**
 * One emulated computer. See the module comment. `S` is the type of the first serial port's chardev
 * ({@link serial}).
 */
export class Machine<S extends Chardev = Chardev> extends EventEmitter<MachineEvents> {
  /** Clocks, timers and bottom halves of this machine. */
  readonly mainLoop: MainLoop;
  /** Debug log (`-d` categories); the library never prints, the sink decides. */
  readonly log: Logger;
  /** Character backends by id (`serial0`, …). */
  readonly chardevs = new ChardevRegistry();
  /** The QOM tree: `/machine`, `/machine/peripheral`, …. */
  readonly qom: MachineRoot;
  /** The root of guest physical memory (QEMU get_system_memory()). */
  readonly sysmem: MemoryRegion;
  /** The system address space (QEMU address_space_memory). */
  readonly addressSpace: AddressSpace;
  /** The CPUs, in hart-id order. */
  readonly cpus: MachineCpu[] = [];
  /** Virtual ns per guest instruction. */
  readonly nsPerInsn: number;
  /** The translated-code cache shared by every CPU of this machine. */
  readonly tbCache: TbCache;
  /**
   * Where boards should allocate guest RAM (`MemoryRegion.ram(…, { allocator })`): the wasm tier's
   * memory when the backend has one, so translated wasm code reads RAM directly; undefined: anywhere.
   */
  readonly ramAllocator: RamAllocator | undefined;
  /** The virtual clock (`machine.clock.now`, `machine.clock.advance('10ms')`). */
  readonly clock: MachineClock;

  #serial: S | null = null;
  readonly #roms: RomBlob[] = [];
  #shutdown: ShutdownInfo | null = null;
  #resetPending = false;
  readonly #sliceNs: number;
  readonly #cpuAs: TcgAddressSpace;
  /** The CPU inside `run` now, and where its run started (for the exact clock). */
  #running: MachineCpu | null = null;
  #runStartNs = 0;
  #runStartIcount = 0;
  #syncing = false;
  /** The stop reason a run slice asked for (breakpoint, stalled, until, halt). */
  #stepStop: MachineStopReason | null = null;
  /** For each CPU hook event the machine has listeners for: how to unsubscribe from every CPU. */
  readonly #cpuHookOffs = new Map<CpuHookEvent, (() => void)[]>();

  constructor(options: MachineOptions = {}) {
    super();
    const shift = options.icountShift ?? 2;
    if (!Number.isInteger(shift) || shift < 0 || shift > MAX_ICOUNT_SHIFT) {
      throw new MachineError(`icountShift must be an integer 0..${MAX_ICOUNT_SHIFT}, got ${shift}`);
    }
    this.nsPerInsn = 2 ** shift;
    this.#sliceNs = options.sliceNs ?? 1_000_000;
    if (!(this.#sliceNs >= 1)) throw new MachineError(`sliceNs must be at least 1, got ${options.sliceNs}`);
    this.mainLoop = new MainLoop(options.mainLoop ?? {});
    this.log = options.log instanceof Logger ? options.log : new Logger(options.log ?? {});
    this.qom = createMachineRoot();
    this.sysmem = MemoryRegion.container(this, 'system', 1n << 64n);
    this.addressSpace = new AddressSpace(this.sysmem, 'memory', { log: { guestError: (m) => this.log.guestError(m) } });
    this.tbCache = new TbCache({ backend: tcgBackend(options.backend ?? 'auto') });
    this.ramAllocator = this.tbCache.tier?.memory.ramAllocator;
    // Stores through the address space (DMA, loaders, the embedder) invalidate translated code.
    this.tbCache.watchRamWrites(this.addressSpace);
    const as = this.addressSpace;
    // The CPUs' view of memory: the same address space, but device accesses first bring the clock up
    // to the instruction making them (see the module comment).
    this.#cpuAs = {
      translate: (addr) => as.translate(addr),
      read: (addr, size) => {
        this.syncClock();
        const value = as.read(addr, size);
        // `mmio` listeners see every CPU access that leaves the RAM fast path (devices, ROM writes);
        // with none, this costs one lookup on an already slow path.
        if (this.listenerCount('mmio') !== 0) this.emit('mmio', { kind: 'read', addr, size, value });
        return value;
      },
      write: (addr, value, size) => {
        this.syncClock();
        as.write(addr, value, size);
        if (this.listenerCount('mmio') !== 0) this.emit('mmio', { kind: 'write', addr, size, value });
      },
      addListener: (l) => as.addListener(l),
    };
    this.mainLoop.addKickListener(() => this.#running?.exit());
    this.clock = new MachineClock(this);
  }

  // ---- board construction ------------------------------------------------------------------------

  /** Adds a CPU: it gets the machine's address space, shared code cache and log. */
  addCpu(cpu: MachineCpu): void {
    cpu.log = this.log;
    cpu.setAddressSpace(this.#cpuAs);
    cpu.configureTcg({ cache: this.tbCache });
    this.cpus.push(cpu);
    // Machine events already listened to cover this CPU too.
    const index = this.cpus.length - 1;
    for (const [event, offs] of this.#cpuHookOffs) {
      const off = this.#forwardCpuHook(event, cpu, index);
      if (off) offs.push(off);
    }
  }

  // ---- events: CPU hooks forwarded only while listened (as CpuHooks in src/hw/core/cpu.ts) ---------

  override on<E extends MachineEventName>(event: E, fn: MachineListener<E>, context?: unknown): this {
    super.on(event, fn, context);
    this.#syncCpuHooks(event);
    return this;
  }
  override addListener<E extends MachineEventName>(event: E, fn: MachineListener<E>, context?: unknown): this {
    return this.on(event, fn, context);
  }
  // A `once` listener is removed through `removeListener` (eventemitter3's emit calls it), which syncs.
  override once<E extends MachineEventName>(event: E, fn: MachineListener<E>, context?: unknown): this {
    super.once(event, fn, context);
    this.#syncCpuHooks(event);
    return this;
  }
  override off<E extends MachineEventName>(event: E, fn?: MachineListener<E>, context?: unknown, once?: boolean): this {
    super.off(event, fn, context, once);
    this.#syncCpuHooks(event);
    return this;
  }
  override removeListener<E extends MachineEventName>(event: E, fn?: MachineListener<E>, context?: unknown, once?: boolean): this {
    return this.off(event, fn, context, once);
  }
  override removeAllListeners(event?: MachineEventName): this {
    super.removeAllListeners(event);
    this.#syncCpuHooks(event);
    return this;
  }

  /** Subscribes to (or unsubscribes from) the CPUs' hooks so that exactly the listened events are forwarded. */
  #syncCpuHooks(event: MachineEventName | undefined): void {
    for (const e of CPU_HOOK_EVENTS) {
      if (event !== undefined && event !== e) continue;
      const want = this.listenerCount(e) !== 0;
      const offs = this.#cpuHookOffs.get(e);
      if (want && offs === undefined) {
        const list: (() => void)[] = [];
        this.#cpuHookOffs.set(e, list);
        this.cpus.forEach((cpu, index) => {
          const off = this.#forwardCpuHook(e, cpu, index);
          if (off) list.push(off);
        });
      } else if (!want && offs !== undefined) {
        this.#cpuHookOffs.delete(e);
        for (const off of offs) off();
      }
    }
  }

  /** Forwards CPU `index`'s hook `event` as the machine event of the same name; returns the unsubscriber. */
  #forwardCpuHook(event: CpuHookEvent, cpu: MachineCpu, index: number): (() => void) | null {
    if (!(cpu instanceof CpuState)) return null;
    const hooks = cpu.hooks;
    switch (event) {
      case 'insn': {
        const fn = (pc: bigint): void => { this.emit('insn', { cpu: index, pc }); };
        hooks.on('insn', fn);
        return () => hooks.off('insn', fn);
      }
      case 'tb': {
        const fn = (pc: bigint, insns: number): void => { this.emit('tb', { cpu: index, pc, insns }); };
        hooks.on('tb', fn);
        return () => hooks.off('tb', fn);
      }
      case 'mem:read': case 'mem:write': {
        const fn = (addr: bigint, size: number, value: bigint): void => { this.emit(event, { cpu: index, addr, size, value }); };
        hooks.on(event, fn);
        return () => hooks.off(event, fn);
      }
      case 'exception': case 'interrupt': {
        // The cause comes from the board's trace target, resolved on first use because boards set
        // `traceTarget` after adding their CPUs.
        let target: TraceTarget | null | undefined;
        const cause = (kind: 'exception' | 'interrupt', _pc: bigint): number | undefined => {
          if (target === undefined) target = this.traceTarget?.(cpu, index) ?? null;
          return target?.trapCause?.(kind);
        };
        if (event === 'exception') {
          const fn = (pc: bigint): void => {
            const c = cause('exception', pc);
            this.emit('exception', c === undefined ? { cpu: index, pc } : { cpu: index, pc, cause: c });
          };
          hooks.on('exception', fn);
          return () => hooks.off('exception', fn);
        }
        const fn = (): void => {
          const c = cause('interrupt', cpu.pc);
          this.emit('interrupt', c === undefined ? { cpu: index } : { cpu: index, cause: c });
        };
        hooks.on('interrupt', fn);
        return () => hooks.off('interrupt', fn);
      }
    }
  }

  /**
   * Places `obj` at `path` in the QOM tree (`/machine/soc/uart0`): the parent containers are created
   * as needed. @returns the object's path.
   */
  addObject(path: string, obj: QObject): string {
    const i = path.lastIndexOf('/');
    if (!path.startsWith('/machine/') || i < '/machine'.length) {
      throw new MachineError(`object path '${path}' must be under /machine/`);
    }
    const parent = containerGet(this.qom.root, path.slice(0, i));
    parent.addChild(path.slice(i + 1), obj);
    return obj.path ?? path;
  }

  /**
   * For boards: a receiver for an interrupt line that reports its level changes as `irq` events and
   * passes every level on to `target`. For a `'device'` line the event is emitted before the level is
   * passed on (so it comes before what the interrupt controller does with it); for a `'cpu'` line
   * after (a listener then sees the CPU's new pending bits). The level is tracked always, so a listener
   * added later sees correct edges; with no listener nothing else is done (no event object is built).
   * ```ts
   * uart.connectIrq(0, machine.irqWire({ kind: 'device', device: 'uart0', output: 0, source: 10 }, plic.irqIn(10)));
   * plic.mExternal(0).connect(machine.irqWire({ kind: 'cpu', cpu: 0, line: 11 }, (l) => setIrqLine(hart, 11, l)));
   * ```
   */
  irqWire(
    source: Omit<DeviceIrqEvent, 'level'> | Omit<CpuIrqEvent, 'level' | 'name'>,
    target: IrqLevelHandler | IrqLine,
  ): IrqLevelHandler {
    const set: IrqLevelHandler = target instanceof IrqLine ? (l) => target.set(l) : target;
    let last = false;
    if (source.kind === 'device') {
      const src = source;
      return (level) => {
        if (level !== last) {
          last = level;
          if (this.listenerCount('irq') !== 0) this.emit('irq', { ...src, level });
        }
        set(level);
      };
    }
    const name = CPU_IRQ_NAMES[source.line] ?? `IRQ${source.line}`;
    const src = { kind: 'cpu' as const, cpu: source.cpu, line: source.line, name };
    return (level) => {
      set(level);
      if (level !== last) {
        last = level;
        if (this.listenerCount('irq') !== 0) this.emit('irq', { ...src, level });
      }
    };
  }

  /** Sets the chardev of the first serial port ({@link serial}) and forwards its output as `output` events. */
  setSerial(chr: S): void {
    this.#serial = chr;
    chr.on('data', (bytes) => this.emit('output', bytes));
  }

  /**
   * Registers a blob the machine writes into guest memory now and at every reset (QEMU
   * rom_add_blob_fixed_as + rom_reset): firmware, kernel, FDT, the reset stub.
   * @throws MachineError if it overlaps a blob already registered, or does not fit in RAM/ROM.
   */
  addRom(name: string, addr: bigint, data: Uint8Array): void {
    if (data.length === 0) return;
    const end = addr + BigInt(data.length);
    for (const r of this.#roms) {
      const rEnd = r.addr + BigInt(r.data.length);
      if (addr < rEnd && r.addr < end) {
        throw new MachineError(`${name} at ${hexRange(addr, end)} overlaps ${r.name} at ${hexRange(r.addr, rEnd)}`);
      }
    }
    const bad = this.firstNonMemory(addr, data.length);
    if (bad !== null) {
      throw new MachineError(`${name} at ${hexRange(addr, end)} is not in RAM or ROM (0x${bad.toString(16)} is ${this.describeAddress(bad)}); memory map:\n${this.memoryMapText()}`);
    }
    const blob = { name, addr, data: data.slice() };
    this.#roms.push(blob);
    this.addressSpace.writeBytes(addr, blob.data, { rom: true });
  }

  /** The registered ROM blobs, in registration order. */
  get roms(): readonly RomBlob[] {
    return this.#roms;
  }

  /**
   * The first address of `[addr, addr+len)` not backed by RAM, ROM or a ROM device, or null if all is.
   */
  firstNonMemory(addr: bigint, len: number | bigint): bigint | null {
    let a = addr;
    const end = addr + BigInt(len);
    while (a < end) {
      const s = this.addressSpace.translate(a);
      if (!s || s.mr.ram === undefined) return a;
      a = s.offsetWithinAddressSpace + s.size;
    }
    return null;
  }

  /** What is mapped at `addr` (`RAM 'riscv_virt_board.ram'`, `I/O 'serial'`, `nothing`). */
  describeAddress(addr: bigint): string {
    const s = this.addressSpace.translate(addr);
    if (!s) return 'unmapped';
    const kind = s.mr.kind === 'io' ? 'I/O' : s.mr.kind === 'rom-device' ? 'ROM device' : s.readonly ? 'ROM' : 'RAM';
    return `${kind} '${s.mr.name}'`;
  }

  /** The flattened memory map, one `start-end name (kind)` line per range (as `info mtree -f`). */
  memoryMapText(): string {
    return this.addressSpace.flatView.ranges.map((r) => {
      const kind = r.mr.kind === 'io' ? 'i/o' : r.mr.kind === 'rom-device' ? 'romd' : r.readonly ? 'rom' : 'ram';
      return `  ${hex16(r.start)}-${hex16(r.end - 1n)} (prio ${r.mr.priority}, ${kind}): ${r.mr.name}`;
    }).join('\n');
  }

  // ---- state -------------------------------------------------------------------------------------

  /** The first serial port's chardev (a BufferChardev unless the board was given another). */
  get serial(): S {
    if (this.#serial === null) throw new MachineError('this machine has no serial port');
    return this.#serial;
  }

  /** How the machine was shut down, or null while it runs. */
  get shutdownInfo(): ShutdownInfo | null {
    return this.#shutdown;
  }

  /** Guest instructions executed by all CPUs since creation. */
  get instructions(): number {
    let n = 0;
    for (const c of this.cpus) n += c.icount;
    return n;
  }

  /** Virtual time in ns, brought up to the current instruction when called while a CPU runs. */
  get virtualTimeNs(): number {
    this.syncClock();
    return this.mainLoop.virtual.now();
  }

  /**
   * Brings the virtual clock up to the instruction the running CPU is executing, firing the timers
   * that expired meanwhile (QEMU icount_get: the icount clock is exact at I/O). Devices and the CPU's
   * time sources call it; outside a run it does nothing.
   */
  syncClock(): void {
    const cpu = this.#running;
    if (cpu === null || this.#syncing) return;
    const target = this.#runStartNs + (cpu.icount - this.#runStartIcount) * this.nsPerInsn;
    const vc = this.mainLoop.virtual;
    if (target <= vc.now()) return;
    // A timer callback reading the time sees its own deadline, not the target (no nested advance).
    this.#syncing = true;
    try {
      vc.advanceTo(target);
    } finally {
      this.#syncing = false;
    }
  }

  /** The device (or any QOM object) at `path`, e.g. `/machine/soc/uart0`. */
  device<T extends QObject = QObject>(path: string): T {
    const o = resolvePath(this.qom.root, path);
    if (!o) {
      const soc = this.qom.root.child('machine')?.child('soc');
      const known = soc ? [...soc.children.keys()].map((k) => `/machine/soc/${k}`).join(', ') : '';
      throw new MachineError(`no object at '${path}'${known ? ` (board devices: ${known})` : ''}`);
    }
    return o as T;
  }

  /** Reads guest physical memory (unassigned bytes read as 0; throws MemoryAccessError for device errors). */
  readMemory(addr: bigint, len: number): Uint8Array {
    return this.addressSpace.readBytes(addr, len);
  }

  /** Writes guest physical memory (RAM writes invalidate translated code). */
  writeMemory(addr: bigint, data: Uint8Array): void {
    this.addressSpace.writeBytes(addr, data);
  }

  /** A register of CPU `cpu` (default 0) by name: `pc`, `a0`, `x5`, `mstatus`, …. */
  getRegister(name: string, cpu = 0): bigint {
    return this.cpuAt(cpu).getRegister(name);
  }

  /** Sets a register of CPU `cpu` (default 0). */
  setRegister(name: string, value: bigint, cpu = 0): void {
    this.cpuAt(cpu).setRegister(name, value);
  }

  private cpuAt(i: number): MachineCpu {
    const c = this.cpus[i];
    if (!c) throw new MachineError(`no CPU ${i}: the machine has ${this.cpus.length}`);
    return c;
  }

  // ---- requests from devices and the embedder ------------------------------------------------------

  /**
   * Shuts the machine down (QEMU qemu_system_shutdown_request): the current run stops at the next TB
   * boundary with reason `shutdown`, and later runs return at once until {@link reset}. Devices
   * (sifive_test, PSCI) call it with the guest's status; the embedder may call it too.
   */
  shutdown(info: ShutdownInfo = { kind: 'host', status: 0 }): void {
    if (this.#shutdown !== null) return;
    this.#shutdown = info;
    this.mainLoop.requestStop('shutdown');
    this.emit('shutdown', info);
  }

  /**
   * What a guest reset request does (QEMU `-action reboot=`): `'reset'` (default) resets the machine
   * and goes on running; `'shutdown'` (QEMU `-no-reboot`) shuts it down with status 0 instead.
   */
  rebootAction: 'reset' | 'shutdown' = 'reset';

  /**
   * Asks for a reset at the next TB boundary (QEMU qemu_system_reset_request); the run continues after
   * it, or stops with `shutdown` under {@link rebootAction} `'shutdown'`.
   */
  requestReset(): void {
    if (this.rebootAction === 'shutdown') {
      this.shutdown({ kind: 'pass', status: 0 });
      return;
    }
    this.#resetPending = true;
    this.mainLoop.requestStop('reset');
  }

  /** Stops the current run at the next TB boundary with reason `paused` (or the next run at once). */
  pause(): void {
    this.mainLoop.requestStop('pause');
  }

  /**
   * Resets the machine (QEMU qemu_system_reset): every device and CPU to its power-on state, the ROM
   * blobs rewritten; RAM keeps its contents and the virtual clock keeps going. Call it between runs;
   * from a device callback during a run, use {@link requestReset}.
   */
  reset(): void {
    this.#resetPending = false;
    this.#shutdown = null;
    resetTree(this.qom.root);
    this.onReset();
    for (const r of this.#roms) this.addressSpace.writeBytes(r.addr, r.data, { rom: true });
    this.emit('reset');
  }

  /** Board hook run by {@link reset} after the devices, before the ROMs are rewritten (CPUs not in the QOM tree…). */
  protected onReset(): void {}

  // ---- snapshots (src/migration) -------------------------------------------------------------------

  /**
   * Saves the machine's state between runs: CPUs, devices, armed timers, virtual clock, RAM (QEMU
   * savevm). {@link restore} on this machine, or on a new one built the same way, continues exactly
   * as this one does from here. See src/migration/snapshot.ts for what is and is not included.
   * @throws SnapshotError while a CPU runs, or if an armed timer has no snapshot id.
   */
  snapshot(): MachineSnapshot {
    return takeSnapshot(this, this.#snapshotAccess());
  }

  /**
   * Restores a state saved by {@link Machine.snapshot} (QEMU loadvm); translated code and TLBs are flushed.
   * @throws SnapshotError / VmStateError if the snapshot does not fit this machine (CPUs, devices, RAM,
   *   versions), naming what differs.
   */
  restore(snapshot: MachineSnapshot): void {
    restoreSnapshot(this, snapshot, this.#snapshotAccess());
  }

  #snapshotAccess(): MachineSnapshotAccess {
    return {
      running: this.#running !== null,
      shutdown: this.#shutdown,
      resetPending: this.#resetPending,
      setRequests: (shutdown, resetPending) => {
        this.#shutdown = shutdown;
        this.#resetPending = resetPending;
      },
    };
  }

  // ---- running -----------------------------------------------------------------------------------

  /**
   * Runs the machine until a limit or an event (see {@link MachineRunOptions} and
   * {@link MachineStopReason}). Synchronous; deterministic.
   */
  run(options: MachineRunOptions = {}): MachineRunResult {
    if (this.cpus.length === 0) throw new MachineError('the machine has no CPU');
    const vc = this.mainLoop.virtual;
    const startInsns = this.instructions;
    const result = (reason: MachineStopReason): MachineRunResult =>
      ({ reason, instructions: this.instructions - startInsns, virtualTimeNs: vc.now(), ...(reason === 'watchpoint' && this.#wpHit ? { watchpoint: this.#wpHit } : {}) });
    if (this.#shutdown !== null) return result('shutdown');

    const budget = options.instructions ?? Infinity;
    if (!(budget >= 0)) throw new MachineError(`instructions must be a non-negative number, got ${options.instructions}`);
    const until = options.until ?? 'shutdown';
    const pred = typeof until === 'function' ? until : undefined;
    const hostDeadline = options.timeoutMs !== undefined ? this.mainLoop.realtime.now() + options.timeoutMs * 1e6 : Infinity;
    const deadlineNs = options.for !== undefined ? vc.now() + Number(parseDuration(options.for)) : undefined;

    let timedOut = false;
    const predicate = (): boolean => {
      if (this.instructions - startInsns >= budget) return true;
      if (pred?.()) return true;
      if (hostDeadline !== Infinity && this.mainLoop.realtime.now() >= hostDeadline) return (timedOut = true);
      return false;
    };
    for (;;) {
      this.#stepStop = null;
      const r: LoopRunResult = this.mainLoop.runUntil(
        { predicate, sliceNs: this.#sliceNs, ...(deadlineNs !== undefined ? { deadlineNs } : {}) },
        (budgetNs) => this.step1(budgetNs, budget - (this.instructions - startInsns), until === 'halt', pred),
      );
      switch (r.reason) {
        case 'stop-requested':
          if (r.stopCause === 'reset' || this.#resetPending) {
            if (this.#resetPending) this.reset();
            continue;
          }
          if (r.stopCause === 'shutdown') return result('shutdown');
          if (r.stopCause === 'pause') return result('paused');
          return result(this.#stepStop ?? 'paused');
        case 'predicate':
          if (this.instructions - startInsns >= budget) return result('instructions');
          return result(timedOut ? 'timeout' : 'until');
        case 'deadline': return result('time');
        case 'idle': return result('idle');
        case 'max-steps': return result('paused');
      }
    }
  }

  /** Runs exactly `n` guest instructions (fewer if the machine stops first); see {@link run}. */
  step(n = 1): MachineRunResult {
    return this.run({ instructions: n });
  }

  /**
   * Runs in slices, yielding to the JS event loop between them (so asynchronous chardevs deliver
   * input), until the serial output contains `text`. Resolves with the output.
   * @throws MachineError if the machine stops (shutdown, idle, budget, timeout) before the text appears.
   */
  async runUntilOutput(text: string, options: RunUntilOutputOptions = {}): Promise<string> {
    const serial = this.serial as Chardev & { readonly output?: string };
    const out = (): string => {
      if (typeof serial.output !== 'string') throw new MachineError('runUntilOutput needs a serial chardev with an `output` (BufferChardev)');
      return serial.output;
    };
    // Look for the text as output arrives (only in the new part), and stop the run at once.
    let found = out().includes(text);
    let scanned = out().length;
    const onData = (): void => {
      if (found) return;
      const o = out();
      found = o.indexOf(text, Math.max(0, scanned - text.length + 1)) >= 0;
      scanned = o.length;
      if (found) this.pause();
    };
    serial.on('data', onData);
    try {
      const slice = options.sliceInstructions ?? 1_000_000;
      const start = this.instructions;
      const hostStart = this.mainLoop.realtime.now();
      const limit = options.instructions ?? Infinity;
      for (;;) {
        if (found) return out();
        const left = limit - (this.instructions - start);
        if (left <= 0) throw new MachineError(`serial output has no ${JSON.stringify(text)} after ${this.instructions - start} instructions; output so far:\n${tail(out())}`);
        if (options.timeoutMs !== undefined && this.mainLoop.realtime.now() - hostStart >= options.timeoutMs * 1e6) {
          throw new MachineError(`serial output has no ${JSON.stringify(text)} after ${options.timeoutMs} ms; output so far:\n${tail(out())}`);
        }
        const r = this.run({ instructions: Math.min(slice, left) });
        if (found) return out();
        if (r.reason === 'shutdown' || r.reason === 'stalled' || r.reason === 'breakpoint') {
          throw new MachineError(`machine stopped (${r.reason}) before the serial output had ${JSON.stringify(text)}; output:\n${tail(out())}`);
        }
        // Let host timers, sockets and stdin run; an idle guest waits for them.
        await new Promise<void>((resolve) => setTimeout(resolve, r.reason === 'idle' ? 1 : 0));
      }
    } finally {
      serial.off('data', onData);
    }
  }

  /**
   * One slice for the main loop: each CPU in turn runs up to `budgetNs` of virtual time (QEMU's
   * round-robin TCG thread), the clock advancing with each CPU's instructions.
   */
  private step1(budgetNs: number, insnsLeft: number, stopOnHalt: boolean, until: (() => boolean) | undefined): number | 'halted' {
    this.chardevs.pollInput();
    const vc = this.mainLoop.virtual;
    let maxInsns = Math.max(1, Math.ceil(budgetNs / this.nsPerInsn));
    if (insnsLeft < maxInsns) maxInsns = insnsLeft;
    let ran = 0;
    let allHalted = true;
    // `halt` events: only looked at with a listener (one lookup a slice otherwise).
    const watchHalt = this.listenerCount('halt') !== 0;
    for (const [index, cpu] of this.cpus.entries()) {
      if (maxInsns <= 0) break;
      const wasHalted = watchHalt && cpu.halted;
      const startNs = vc.now();
      this.#running = cpu;
      this.#runStartNs = startNs;
      this.#runStartIcount = cpu.icount;
      let r: CpuRunResult;
      try {
        r = cpu.run(until ? { instructions: maxInsns, until } : { instructions: maxInsns });
      } finally {
        this.#running = null;
      }
      const end = startNs + r.instructions * this.nsPerInsn;
      if (end > vc.now()) vc.advanceTo(end);
      ran += r.instructions;
      // A CPU already halted that stays so reports nothing; one that ran (even woken and halted again) does.
      if (watchHalt && r.reason === 'halt' && (r.instructions > 0 || !wasHalted)) {
        this.emit('halt', { cpu: index, pc: BigInt.asUintN(64, cpu.pc), timeNs: vc.now() });
      }
      if (!cpu.halted) allHalted = false;
      switch (r.reason) {
        case 'breakpoint': case 'stalled': case 'until':
          this.#stepStop = r.reason;
          this.mainLoop.requestStop(r.reason);
          return 0;
        default:
      }
      if (this.#stepStop !== null) return 0; // a watchpoint hit: stop before the next CPU runs
      if (this.#shutdown !== null || this.#resetPending) return 0;
    }
    if (allHalted) {
      if (stopOnHalt) {
        this.#stepStop = 'halt';
        this.mainLoop.requestStop('halt');
        return 0;
      }
      if (ran === 0) return 'halted';
    }
    return 0;
  }

  // ---- debugging: symbols, breakpoints, watchpoints, tracing, stubs ---------------------------------

  /** ELF images whose symbols {@link lookupSymbol} and traces use. */
  readonly #symbolImages: ElfImage[] = [];
  readonly #watchpoints: Watchpoint[] = [];
  #wpDetach: (() => void) | null = null;
  #wpHit: WatchpointHit | null = null;
  /**
   * How traces decode CPU `index`'s instructions and describe its traps; boards set it (see
   * `riscvTraceTarget` in src/hw/core/board.ts). Without it traces print raw words.
   */
  traceTarget: ((cpu: MachineCpu, index: number) => TraceTarget) | null = null;

  /** Makes the symbols of a loaded ELF known to {@link addBreakpoint}, {@link lookupSymbol} and traces. */
  addSymbols(image: ElfImage): void {
    this.#symbolImages.push(image);
  }

  /** The address of symbol `name` in the loaded images (the first image that has it), or undefined. */
  lookupSymbol(name: string): bigint | undefined {
    for (const img of this.#symbolImages) {
      const s = img.symbols.get(name);
      if (s !== undefined) return s.value;
    }
    return undefined;
  }

  /** `name` or `name+0x14` for an address in a loaded image, or `''` (QEMU lookup_symbol). */
  symbolize(addr: bigint): string {
    for (const img of this.#symbolImages) {
      const hit = symbolAt(img, addr);
      if (hit) return hit.offset === 0n ? hit.symbol.name : `${hit.symbol.name}+0x${hit.offset.toString(16)}`;
    }
    return '';
  }

  /**
   * Stops runs (reason `breakpoint`) before the instruction at a virtual address or an ELF symbol of a
   * loaded image (`'main'`), on CPU `cpu` or on every CPU. @returns the address.
   * @throws MachineError for an unknown symbol (with a suggestion).
   */
  addBreakpoint(where: bigint | number | string, cpu?: number): bigint {
    const addr = this.#resolveCodeAddr(where);
    for (const c of this.#debugCpus(cpu)) c.addBreakpoint(addr);
    return addr;
  }

  /** Removes a breakpoint set by {@link addBreakpoint}; returns whether any CPU had it. */
  removeBreakpoint(where: bigint | number | string, cpu?: number): boolean {
    const addr = this.#resolveCodeAddr(where);
    let had = false;
    for (const c of this.#debugCpus(cpu)) had = c.removeBreakpoint(addr) || had;
    return had;
  }

  /**
   * Watches guest virtual addresses `[addr, addr+len)`: a CPU load (`'r'`), store (`'w'`, default) or
   * either (`'rw'`) touching them stops the run right after the accessing instruction, with reason
   * `watchpoint` and {@link MachineRunResult.watchpoint}. Accepts a symbol name for `addr`. While any
   * watchpoint is set the CPUs run one instruction per TB with memory hooks (slow); with none, nothing
   * is hooked and nothing is slower.
   */
  addWatchpoint(addr: bigint | number | string, len: bigint | number = 4, kind: 'r' | 'w' | 'rw' = 'w'): Watchpoint {
    const a = this.#resolveCodeAddr(addr);
    const l = BigInt(len);
    if (l <= 0n) throw new MachineError(`watchpoint length must be positive, got ${len}`);
    if (kind !== 'r' && kind !== 'w' && kind !== 'rw') throw new MachineError(`watchpoint kind must be 'r', 'w' or 'rw', got '${String(kind)}'`);
    const wp: Watchpoint = { addr: a, len: l, kind, hits: 0 };
    this.#watchpoints.push(wp);
    if (this.#watchpoints.length === 1) this.#attachWatchHooks();
    return wp;
  }

  /** Removes a watchpoint; returns whether it was set. The last one removed unhooks the CPUs. */
  removeWatchpoint(wp: Watchpoint): boolean {
    const i = this.#watchpoints.indexOf(wp);
    if (i < 0) return false;
    this.#watchpoints.splice(i, 1);
    if (this.#watchpoints.length === 0) {
      this.#wpDetach?.();
      this.#wpDetach = null;
    }
    return true;
  }

  /** The watchpoints set. */
  get watchpoints(): readonly Watchpoint[] {
    return this.#watchpoints;
  }

  /** The access that stopped the last run with reason `watchpoint`, or null. */
  get lastWatchpointHit(): WatchpointHit | null {
    return this.#wpHit;
  }

  /**
   * The pc of the instruction a CPU is executing now (exact inside a TB, e.g. from a device callback),
   * or undefined outside a run.
   */
  currentInsnPc(): bigint | undefined {
    const cpu = this.#running;
    if (cpu === null) return undefined;
    if (cpu instanceof CpuState) {
      const t = cpu.tcg;
      const start = t.currentTb?.insnStarts[t.curInsn];
      if (start) return (BigInt((start[1] ?? 0) >>> 0) << 32n) | BigInt((start[0] ?? 0) >>> 0);
    }
    return BigInt.asUintN(64, cpu.pc);
  }

  /**
   * Starts a QEMU `-d`-style trace (`in_asm`, `exec`, `int`, `mmu`; see src/util/trace.ts) of every CPU.
   * Lines go to `options.sink`, by default to the machine's logger sink under the item's category
   * (whatever the logger's mask). @returns a handle whose `stop()` ends it.
   */
  trace(options: TraceOptions): TraceHandle {
    const items = parseTraceItems(options.items);
    const sink = options.sink ?? ((item, text) => this.log.sink(item, text));
    const session = new TraceSession<TranslationBlock>(items, sink, options.range);
    const offs: (() => void)[] = [];
    const sym = (pc: bigint): string => this.symbolize(pc);
    this.cpus.forEach((cpu, index) => {
      if (!(cpu instanceof CpuState)) return;
      const target = this.traceTarget?.(cpu, index) ?? rawTraceTarget(64);
      if (items.has('in_asm') || items.has('exec')) {
        const onTb = (): void => {
          const tb = cpu.tcg.currentTb;
          if (tb) session.tbEntered(index, tb, target, sym, () => this.#tbCode(tb, target));
        };
        cpu.hooks.on('tb', onTb);
        offs.push(() => cpu.hooks.off('tb', onTb));
      }
      if (items.has('int')) {
        const onExc = (pc: bigint): void => {
          session.emit('int', target.describeTrap?.('exception', pc) ?? `exception at pc 0x${pc.toString(16)}`);
        };
        const onIrq = (): void => {
          session.emit('int', target.describeTrap?.('interrupt', cpu.pc) ?? `interrupt, handler at 0x${cpu.pc.toString(16)}`);
        };
        cpu.hooks.on('exception', onExc);
        cpu.hooks.on('interrupt', onIrq);
        offs.push(() => { cpu.hooks.off('exception', onExc); cpu.hooks.off('interrupt', onIrq); });
      }
      if (items.has('mmu') && target.watchTlbFill) {
        offs.push(target.watchTlbFill((fill) => session.emit('mmu', formatTlbFill(fill, target.addressBits))));
      }
    });
    let stopped = false;
    return {
      items, counts: session.counts,
      stop: () => {
        if (stopped) return;
        stopped = true;
        for (const off of offs) off();
      },
    };
  }

  /**
   * Maps a {@link PeripheralStub} (a register file that records every access) at `options.base`:
   * `const gpio = machine.addPeripheralStub({ name: 'gpio', base: 0x10012000, size: 0x100 })`.
   */
  addPeripheralStub(options: PeripheralStubOptions): PeripheralStub {
    return mapPeripheralStub(this, options);
  }

  #resolveCodeAddr(where: bigint | number | string): bigint {
    if (typeof where !== 'string') return BigInt.asUintN(64, BigInt(where));
    const a = this.lookupSymbol(where);
    if (a !== undefined) return a;
    if (this.#symbolImages.length === 0) throw new MachineError(`no symbol '${where}': no ELF image with symbols was loaded`);
    const names = this.#symbolImages.flatMap((img) => [...img.symbols.keys()]);
    throw new MachineError(`no symbol '${where}' in the loaded images${didYouMean(where, names)}`);
  }

  #debugCpus(cpu: number | undefined): CpuState[] {
    const list = cpu === undefined ? this.cpus : [this.cpuAt(cpu)];
    return list.map((c) => {
      if (!(c instanceof CpuState)) throw new MachineError('breakpoints need CPUs built on CpuState');
      return c;
    });
  }

  #attachWatchHooks(): void {
    const offs: (() => void)[] = [];
    this.cpus.forEach((cpu, index) => {
      if (!(cpu instanceof CpuState)) return;
      // The insn hook makes every TB one instruction long, so the exit below lands right after the access.
      let insnPc = 0n;
      const onInsn = (pc: bigint): void => { insnPc = pc; };
      const check = (kind: 'r' | 'w') => (addr: bigint, size: number, value: bigint): void => {
        for (const wp of this.#watchpoints) {
          if (!wp.kind.includes(kind) || !(addr < wp.addr + wp.len && wp.addr < addr + BigInt(size))) continue;
          wp.hits++;
          this.#wpHit = { watchpoint: wp, cpu: index, kind, addr, size, value, pc: insnPc };
          this.#stepStop = 'watchpoint';
          this.mainLoop.requestStop('watchpoint');
          cpu.exit();
          return;
        }
      };
      const onRead = check('r'), onWrite = check('w');
      cpu.hooks.on('insn', onInsn);
      cpu.hooks.on('mem:read', onRead);
      cpu.hooks.on('mem:write', onWrite);
      offs.push(() => {
        cpu.hooks.off('insn', onInsn);
        cpu.hooks.off('mem:read', onRead);
        cpu.hooks.off('mem:write', onWrite);
      });
    });
    this.#wpDetach = () => { for (const off of offs) off(); };
  }

  /** The guest bytes of a TB: its first page from its physical pc, the next through the target's MMU. */
  #tbCode(tb: TranslationBlock, target: TraceTarget): Uint8Array {
    const out = new Uint8Array(tb.size);
    let off = 0;
    while (off < tb.size) {
      const va = tb.pc + BigInt(off);
      const pageLeft = TARGET_PAGE_SIZE - Number(va & BigInt(TARGET_PAGE_SIZE - 1));
      const n = Math.min(tb.size - off, pageLeft);
      const pa = off === 0 ? tb.physPc : (target.physAddr?.(va) ?? (tb.physPc === tb.pc ? va : null));
      if (pa === null) break;
      try {
        out.set(this.addressSpace.readBytes(pa, n), off);
      } catch {
        break;
      }
      off += n;
    }
    return out.subarray(0, off);
  }

  /** Closes the chardevs and detaches the memory listeners. The machine cannot run afterwards. */
  destroy(): void {
    this.chardevs.closeAll();
    this.addressSpace.destroy();
    this.removeAllListeners();
  }
}

function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function hexRange(start: bigint, end: bigint): string {
  return `0x${start.toString(16)}-0x${(end - 1n).toString(16)}`;
}

function tail(s: string, n = 2000): string {
  return s.length <= n ? s : '…' + s.slice(-n);
}
