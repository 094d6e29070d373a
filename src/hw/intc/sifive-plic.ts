/**
 * SiFive PLIC, the platform-level interrupt controller of the RISC-V virt board (QEMU 7.2
 * hw/intc/sifive_plic.c).
 *
 * Contract:
 * - Inputs: `numSources` lines (unnamed GPIO input group, {@link SifivePlic.irqIn}); source 0 does not
 *   exist (its priority is hard-wired to 0), so devices use 1..numSources-1. Setting a line sets the
 *   source's pending bit to the level (QEMU sifive_plic_irq_request).
 * - Contexts: `hartConfig` lists the modes of each hart (`"MS"`, `"MS,MS"`, `"M,MS"`); contexts are
 *   numbered in that order. Outputs (unnamed GPIO output group, as QEMU): S-mode external interrupt of
 *   hart `hartidBase + i` at index `i`, M-mode at `numHarts + i` ({@link SifivePlic.contextOutput} finds
 *   a context's line). A context's output is high while some source is pending, enabled for it, not
 *   claimed, and has a priority above its threshold.
 * - One MMIO region, 4-byte accesses, little-endian: priorities at `priorityBase + 4*source` (WARL:
 *   values are taken modulo `numPriorities + 1` when that is a power of two, else values above
 *   `numPriorities` are ignored), pending bits at `pendingBase` (read-only), enable bits at
 *   `enableBase + context*enableStride`, and per context at `contextBase + context*contextStride` the
 *   threshold (+0) and claim/complete (+4).
 * - Claim (read +4) returns the highest-priority pending enabled unclaimed source above the threshold
 *   (the lowest id among equals), or 0; it clears the source's pending bit and marks it claimed.
 *   Complete (write +4) clears the claimed mark of any source id < numSources; a source whose input
 *   is still high pends again (the PLIC gateway of a level-triggered source).
 *
 * Differences from QEMU 7.2, all towards the PLIC specification: the virt board's 7.2 layout is kept
 * (source n's priority at 4*n) without its off-by-one storage slot past the last source; enable writes
 * re-evaluate the outputs at once (7.2 waits for the next event); a completed source whose line is
 * still high pends again without the device having to set its line again; the pending registers end
 * at the last word of sources.
 * @module
 */
import { IrqLine } from '../core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop } from '../../qom/index.js';
import { MemoryRegion } from '../../memory/index.js';
import { Logger } from '../../util/log.js';
import { LifecycleError, PropertyError, WiringError } from '../../util/errors.js';
import type { VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_SIFIVE_PLIC). */
export const TYPE_SIFIVE_PLIC = 'riscv.sifive.plic';

/** The virt board's PLIC layout (QEMU 7.2 include/hw/riscv/virt.h). */
export const VIRT_PLIC = {
  numSources: 96,
  numPriorities: 7,
  pendingBase: 0x1000,
  enableBase: 0x2000,
  enableStride: 0x80,
  contextBase: 0x20_0000,
  contextStride: 0x1000,
  size: 0x60_0000,
} as const;

/** Privilege mode of a context. */
export type PlicMode = 'U' | 'S' | 'M';

/** One context: a hart and a mode (QEMU PLICAddr). */
export interface PlicContext {
  readonly hartid: number;
  readonly mode: PlicMode;
}

/** What the PLIC needs from its machine (only a logger). */
export interface PlicMachineContext {
  /** Where guest errors go (default: discarded). */
  readonly log?: Logger;
}

/**
 * Parses a hart configuration as QEMU parse_hart_config: harts separated by `,`, each a set of modes
 * from `U`, `S`, `M` (contexts in the order written); empty harts are skipped.
 * @throws PropertyError on an unknown or repeated mode.
 */
export function parsePlicHartConfig(config: string, hartidBase = 0): { contexts: PlicContext[]; numHarts: number } {
  const contexts: PlicContext[] = [];
  let hart = hartidBase;
  let numHarts = 0;
  for (const part of config.split(',')) {
    if (part === '') continue;
    const seen = new Set<string>();
    for (const c of part) {
      if (c !== 'U' && c !== 'S' && c !== 'M') {
        throw new PropertyError(`sifive_plic.hartConfig: invalid mode '${c}' in '${config}' (modes are U, S, M)`, TYPE_SIFIVE_PLIC, 'hartConfig');
      }
      if (seen.has(c)) {
        throw new PropertyError(`sifive_plic.hartConfig: duplicate mode '${c}' in '${config}'`, TYPE_SIFIVE_PLIC, 'hartConfig');
      }
      seen.add(c);
      contexts.push({ hartid: hart, mode: c });
    }
    hart++;
    numHarts++;
  }
  return { contexts, numHarts };
}

/** SiFive PLIC. Realize, connect the outputs, then reset (as QEMU's machine reset). */
export class SifivePlic extends SysBusDevice {
  /** Snapshot state (QEMU vmstate_sifive_plic, plus the input levels the gateway keeps). */
  static readonly vmstate: VmStateDescription<SifivePlic> = {
    name: TYPE_SIFIVE_PLIC, version: 1,
    fields: [
      { name: 'priority', kind: 'u32', array: true },
      { name: 'threshold', kind: 'u32', array: true },
      { name: 'pending', kind: 'u32', array: true },
      { name: 'claimed', kind: 'u32', array: true },
      { name: 'enable', kind: 'u32', array: true },
      { name: 'level', kind: 'u8', array: true },
    ],
    // After the devices whose postLoad re-drives our inputs (that would set pending bits again).
    order: 1,
    postLoad: (s) => s.update(),
  };

  /** Modes of each hart, e.g. `"MS,MS"` (QOM property `hart-config`). */
  declare readonly hartConfig: string;
  /** Hart id of the first hart (QOM property `hartid-base`). */
  declare readonly hartidBase: number;
  /** Number of sources including the reserved source 0 (QOM property `num-sources`). */
  declare readonly numSources: number;
  /** Highest priority (QOM property `num-priorities`). */
  declare readonly numPriorities: number;
  /** Offset of source 0's priority (QOM property `priority-base`). */
  declare readonly priorityBase: number;
  /** Offset of the pending bits (QOM property `pending-base`). */
  declare readonly pendingBase: number;
  /** Offset of context 0's enable bits (QOM property `enable-base`). */
  declare readonly enableBase: number;
  /** Distance between contexts' enable bits (QOM property `enable-stride`). */
  declare readonly enableStride: number;
  /** Offset of context 0's threshold (QOM property `context-base`). */
  declare readonly contextBase: number;
  /** Distance between contexts' threshold/claim registers (QOM property `context-stride`). */
  declare readonly contextStride: number;
  /** Size of the MMIO region; 0: up to the end of the last context (QOM property `aperture-size`). */
  declare readonly apertureSize: number;

  #log = new Logger();
  #region: MemoryRegion | null = null;
  #inputs: IrqLine[] = [];
  /** Output group: S lines of each hart, then M lines of each hart (QEMU order). */
  #outputs: IrqLine[] = [];
  #contexts: PlicContext[] = [];
  #numHarts = 0;
  /** Output line of each context, or null (U mode). */
  #ctxLine: (IrqLine | null)[] = [];

  private words = 0;
  private priority = new Uint32Array(0);
  private threshold = new Uint32Array(0);
  private pending = new Uint32Array(0);
  private claimed = new Uint32Array(0);
  private enable = new Uint32Array(0);
  /** Current level of each input line (the gateway's view of a level-triggered source). */
  private level = new Uint8Array(0);

  /** Gives the device its machine's logger. */
  setMachineContext(ctx: PlicMachineContext): void {
    this.#log = ctx.log ?? new Logger();
  }

  /** The MMIO region; exists once realized. */
  get region(): MemoryRegion {
    if (!this.#region) throw new LifecycleError(`${this.toString()} has no MMIO region before it is realized`);
    return this.#region;
  }

  /** The contexts, in register order (valid once realized). */
  get contexts(): readonly PlicContext[] {
    return this.#contexts;
  }

  /** Number of harts in `hartConfig` (valid once realized). */
  get numHarts(): number {
    return this.#numHarts;
  }

  /** Input line of source `n` (QEMU qdev_get_gpio_in(plic, n)). */
  irqIn(n: number): IrqLine {
    return this.gpioInLine(n);
  }

  /** Output line of context `ctx` (S → the hart's SEIP, M → its MEIP); null for a U-mode context. */
  contextOutput(ctx: number): IrqLine | null {
    const l = this.#ctxLine[ctx];
    if (l === undefined) throw new WiringError(`${this.toString()} has no context ${ctx} (it has ${this.#contexts.length})`);
    return l;
  }

  /** S-mode external interrupt output of hart `hartidBase + i` (GPIO output `i`). */
  sExternal(i: number): IrqLine {
    return this.gpioOutLine(i);
  }

  /** M-mode external interrupt output of hart `hartidBase + i` (GPIO output `numHarts + i`). */
  mExternal(i: number): IrqLine {
    return this.gpioOutLine(this.#numHarts + i);
  }

  protected override onRealize(): void {
    const { contexts, numHarts } = parsePlicHartConfig(this.hartConfig, this.hartidBase);
    if (this.numSources < 1) throw new PropertyError(`${this.typeName}.numSources must be at least 1, got ${this.numSources}`, this.typeName, 'numSources');
    if (contexts.length === 0) throw new PropertyError(`${this.typeName}.hartConfig '${this.hartConfig}' has no context`, this.typeName, 'hartConfig');
    for (const [name, v] of [['enableStride', this.enableStride], ['contextStride', this.contextStride]] as const) {
      if (v < 8 || v % 4 !== 0) throw new PropertyError(`${this.typeName}.${name} must be a multiple of 4, at least 8, got ${v}`, this.typeName, name);
    }
    const words = (this.numSources + 31) >> 5;
    if (words * 4 > this.enableStride) {
      throw new PropertyError(`${this.typeName}.enableStride 0x${this.enableStride.toString(16)} is too small for ${this.numSources} sources`, this.typeName, 'enableStride');
    }
    if (this.#inputs.length === 0) {
      this.#inputs = this.gpioIn(this.numSources, (n, level) => this.setInput(n, level));
      this.#numHarts = numHarts;
      const s = Array.from({ length: numHarts }, (_, i) => new IrqLine(undefined, `${this.typeName}.seip[${i}]`));
      const m = Array.from({ length: numHarts }, (_, i) => new IrqLine(undefined, `${this.typeName}.meip[${i}]`));
      this.#outputs = [...s, ...m];
      this.gpioOut(this.#outputs);
    } else if (this.#inputs.length !== this.numSources || this.#numHarts !== numHarts) {
      throw new LifecycleError(`${this.toString()}: numSources and the number of harts cannot change after the first realize`);
    }
    this.#contexts = contexts;
    this.#ctxLine = contexts.map((c) => {
      const i = c.hartid - this.hartidBase;
      return c.mode === 'S' ? this.#outputs[i]! : c.mode === 'M' ? this.#outputs[numHarts + i]! : null;
    });
    this.words = words;
    this.priority = new Uint32Array(this.numSources);
    this.threshold = new Uint32Array(contexts.length);
    this.pending = new Uint32Array(words);
    this.claimed = new Uint32Array(words);
    this.enable = new Uint32Array(words * contexts.length);
    this.level = new Uint8Array(this.numSources);
    const size = this.apertureSize !== 0 ? this.apertureSize : this.contextBase + contexts.length * this.contextStride;
    if (!this.#region) {
      this.#region = MemoryRegion.io(this, TYPE_SIFIVE_PLIC, size, {
        read: (addr) => this.read(addr),
        write: (addr, value) => this.write(addr, Number(value) >>> 0),
        endianness: 'little',
        valid: { min: 4, max: 4 },
      });
      this.initMmio(this.#region);
    } else {
      this.#region.setSize(size);
    }
  }

  /** QEMU sifive_plic_reset: every register 0, outputs low. Input levels are wires and stay. */
  protected override reset(): void {
    this.priority.fill(0);
    this.threshold.fill(0);
    this.pending.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    for (const l of this.#outputs) l.set(false);
  }

  // ---- state -------------------------------------------------------------------------------------

  private setBit(a: Uint32Array, irq: number, on: boolean): void {
    const w = irq >> 5;
    const m = 1 << (irq & 31);
    a[w] = on ? a[w]! | m : a[w]! & ~m;
  }

  /** QEMU sifive_plic_irq_request. */
  private setInput(irq: number, level: boolean): void {
    this.level[irq] = level ? 1 : 0;
    this.setBit(this.pending, irq, level);
    this.update();
  }

  /** QEMU sifive_plic_claimed: the source a claim by context `ctx` would return, or 0. */
  private best(ctx: number): number {
    let maxIrq = 0;
    let maxPrio = this.threshold[ctx]!;
    const base = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = (this.pending[w]! & ~this.claimed[w]! & this.enable[base + w]!) >>> 0;
      while (bits !== 0) {
        const j = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const irq = (w << 5) + j;
        if (irq >= this.numSources) break;
        const prio = this.priority[irq]!;
        if (prio > maxPrio) {
          maxIrq = irq;
          maxPrio = prio;
        }
      }
    }
    return maxIrq;
  }

  /** Recomputes every context's output from the state (QEMU sifive_plic_update). */
  private update(): void {
    for (let c = 0; c < this.#contexts.length; c++) this.#ctxLine[c]?.set(this.best(c) !== 0);
  }

  /** WARL priority/threshold value, or null if the write is ignored (QEMU sifive_plic_write). */
  private legalPriority(value: number): number | null {
    const np = this.numPriorities;
    if (((np + 1) & np) === 0) return value % (np + 1);
    return value <= np ? value : null;
  }

  // ---- MMIO --------------------------------------------------------------------------------------

  private within(addr: number, base: number, size: number): boolean {
    return addr >= base && addr - base < size;
  }

  private read(addr: number): number {
    if (this.within(addr, this.priorityBase, this.numSources * 4)) {
      return this.priority[(addr - this.priorityBase) >> 2]!;
    }
    if (this.within(addr, this.pendingBase, this.words * 4)) {
      return this.pending[(addr - this.pendingBase) >> 2]!;
    }
    const n = this.#contexts.length;
    if (this.within(addr, this.enableBase, n * this.enableStride)) {
      const ctx = Math.floor((addr - this.enableBase) / this.enableStride);
      const word = ((addr - this.enableBase) % this.enableStride) >> 2;
      if (word < this.words) return this.enable[ctx * this.words + word]!;
    } else if (this.within(addr, this.contextBase, n * this.contextStride)) {
      const ctx = Math.floor((addr - this.contextBase) / this.contextStride);
      const off = (addr - this.contextBase) % this.contextStride;
      if (off === 0) return this.threshold[ctx]!;
      if (off === 4) {
        const irq = this.best(ctx);
        if (irq !== 0) {
          this.setBit(this.pending, irq, false);
          this.setBit(this.claimed, irq, true);
        }
        this.update();
        return irq;
      }
    }
    this.#log.guestError(`sifive_plic_read: Invalid register read 0x${addr.toString(16)}`);
    return 0;
  }

  private write(addr: number, value: number): void {
    if (this.within(addr, this.priorityBase, this.numSources * 4)) {
      const irq = (addr - this.priorityBase) >> 2;
      const p = this.legalPriority(value);
      // Source 0 does not exist: its priority stays 0.
      if (p !== null && irq !== 0) {
        this.priority[irq] = p;
        this.update();
      }
      return;
    }
    if (this.within(addr, this.pendingBase, this.words * 4)) {
      this.#log.guestError(`sifive_plic_write: invalid pending write: 0x${addr.toString(16)}`);
      return;
    }
    const n = this.#contexts.length;
    if (this.within(addr, this.enableBase, n * this.enableStride)) {
      const ctx = Math.floor((addr - this.enableBase) / this.enableStride);
      const word = ((addr - this.enableBase) % this.enableStride) >> 2;
      if (word < this.words) {
        this.enable[ctx * this.words + word] = value;
        this.update();
      } else {
        this.#log.guestError(`sifive_plic_write: Invalid enable write 0x${addr.toString(16)}`);
      }
      return;
    }
    if (this.within(addr, this.contextBase, n * this.contextStride)) {
      const ctx = Math.floor((addr - this.contextBase) / this.contextStride);
      const off = (addr - this.contextBase) % this.contextStride;
      if (off === 0) {
        const p = this.legalPriority(value);
        if (p !== null) {
          this.threshold[ctx] = p;
          this.update();
        }
      } else if (off === 4) {
        if (value < this.numSources) {
          this.setBit(this.claimed, value, false);
          // The gateway of a level-triggered source forwards a new request once the claim completes.
          if (this.level[value]) this.setBit(this.pending, value, true);
          this.update();
        }
      } else {
        this.#log.guestError(`sifive_plic_write: Invalid context write 0x${addr.toString(16)}`);
      }
      return;
    }
    this.#log.guestError(`sifive_plic_write: Invalid register write 0x${addr.toString(16)}`);
  }
}

defineType({
  name: TYPE_SIFIVE_PLIC,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: SifivePlic,
  description: 'SiFive platform-level interrupt controller',
  properties: {
    hartConfig: prop.string('MS', { description: 'modes of each hart, e.g. "MS,MS"' }),
    hartidBase: prop.u32(0, { description: 'hart id of the first hart' }),
    numSources: prop.u32(VIRT_PLIC.numSources, { description: 'number of sources including source 0' }),
    numPriorities: prop.u32(VIRT_PLIC.numPriorities, { description: 'highest priority' }),
    priorityBase: prop.u32(0, { description: 'offset of the priority registers' }),
    pendingBase: prop.u32(VIRT_PLIC.pendingBase, { description: 'offset of the pending bits' }),
    enableBase: prop.u32(VIRT_PLIC.enableBase, { description: 'offset of the enable bits' }),
    enableStride: prop.u32(VIRT_PLIC.enableStride, { description: 'distance between contexts\' enable bits' }),
    contextBase: prop.u32(VIRT_PLIC.contextBase, { description: 'offset of the threshold/claim registers' }),
    contextStride: prop.u32(VIRT_PLIC.contextStride, { description: 'distance between contexts\' threshold/claim registers' }),
    apertureSize: prop.u32(0, { description: 'size of the MMIO region (0: up to the last context)' }),
  },
});
