/**
 * Execution tracing in the shape of QEMU's `-d in_asm,exec,int,mmu` (QEMU accel/tcg/translator.c +
 * target/riscv/translate.c riscv_tr_disas_log for `in_asm`, accel/tcg/cpu-exec.c log_cpu_exec for
 * `exec`, target/riscv/cpu_helper.c riscv_cpu_do_interrupt / riscv_cpu_tlb_fill for `int` and `mmu`).
 *
 * This module knows no guest and no CPU: it parses the item list, formats the lines QEMU prints, and
 * keeps the per-trace state (which TBs were already shown, their serial numbers). The machine
 * (`Machine.trace` in src/machine/machine.ts) attaches it to the CPUs' hooks, and a
 * {@link TraceTarget} supplied by the board says how to disassemble and how to describe a trap.
 *
 * Every line goes to a {@link TraceSink} with its item, so a machine's `Logger` sink (`-d` output)
 * can be the sink. Tracing costs nothing while it is off: the hooks it needs are only listened to
 * during a trace.
 * @module
 */
import { SoftboardError } from './errors.js';

/** The trace items, in QEMU's `-d` order, with QEMU's help text. */
export const TRACE_ITEMS = [
  { name: 'in_asm', help: 'show target assembly code for each compiled TB' },
  { name: 'int', help: 'show interrupts/exceptions in short format' },
  { name: 'exec', help: 'show trace before each executed TB (lots of logs)' },
  { name: 'mmu', help: 'log MMU-related activities' },
] as const;

/** One trace item. */
export type TraceItem = (typeof TRACE_ITEMS)[number]['name'];

/**
 * Receives each trace message: the item and the text (no trailing newline; an `in_asm` block spans
 * several lines). Same shape as a `LogSink` (src/util/log.ts), so a logger's sink can be passed.
 */
export type TraceSink = (item: TraceItem, text: string) => void;

/** A bad trace item list. */
export class TraceError extends SoftboardError {
  override name = 'TraceError';
}

/**
 * Parses `'in_asm,exec'` (or an array of items). Unknown items throw {@link TraceError} naming the item
 * and listing the valid ones; `all` enables every item.
 */
export function parseTraceItems(spec: string | readonly string[]): Set<TraceItem> {
  const list = typeof spec === 'string' ? spec.split(',') : spec;
  const valid = TRACE_ITEMS.map((i) => i.name) as readonly string[];
  const out = new Set<TraceItem>();
  for (const raw of list) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'all') {
      for (const v of valid) out.add(v as TraceItem);
      continue;
    }
    if (!valid.includes(item)) {
      throw new TraceError(`unknown trace item '${item}'; valid items: all, ${valid.join(', ')}`);
    }
    out.add(item as TraceItem);
  }
  return out;
}

/** One decoded guest instruction, as a {@link TraceTarget} returns it. */
export interface TraceInsn {
  /** Length in bytes (at least 1). */
  readonly length: number;
  /** The assembly text, e.g. `auipc t0,0x0`. */
  readonly text: string;
}

/** A TLB fill (a page walk) as the `mmu` item reports it. */
export interface TraceTlbFill {
  readonly vaddr: bigint;
  /** 0 load, 1 store, 2 fetch (QEMU MMUAccessType). */
  readonly access: number;
  readonly mmuIdx: number;
  /** The physical page and permissions, or null if the walk faulted. */
  readonly result: { readonly physPage: bigint; readonly prot: number } | null;
}

/**
 * What a trace needs to know of one CPU's instruction set; the board provides it (see
 * `riscvTraceTarget` in src/hw/core/board.ts). Only {@link disassemble} is required.
 */
export interface TraceTarget {
  /** Address width for printing addresses (16 or 8 hex digits, as QEMU's TARGET_FMT_lx). */
  readonly addressBits: 32 | 64;
  /** Decodes the instruction at the start of `bytes`, which is at virtual address `pc`. */
  disassemble(bytes: Uint8Array, pc: bigint): TraceInsn;
  /** Extra lines after `IN: …` for a TB with these flags (RISC-V prints `Priv: 3; Virt: 0`). */
  tbHeader?(flags: number): string;
  /**
   * One `int` line for an exception about to be delivered at `pc` (kind `exception`) or an interrupt
   * just taken (kind `interrupt`), read from the CPU's state.
   */
  describeTrap?(kind: 'exception' | 'interrupt', pc: bigint): string;
  /**
   * The cause number of the same trap (RISC-V: the xCAUSE code without the interrupt bit), or undefined
   * when none is recorded; called at the same moments as {@link describeTrap}.
   */
  trapCause?(kind: 'exception' | 'interrupt'): number | undefined;
  /** Physical address of virtual `vaddr` for debugger-style reads, or null (for TBs crossing a page). */
  physAddr?(vaddr: bigint): bigint | null;
  /**
   * Calls `listener` after each TLB fill (page walk) of the CPU; returns a function that stops it.
   * Without it the `mmu` item prints nothing.
   */
  watchTlbFill?(listener: (fill: TraceTlbFill) => void): () => void;
}

/** What the tracer needs of a translation block (a TranslationBlock satisfies it). */
export interface TraceTb {
  readonly pc: bigint;
  readonly flags: number;
  readonly cflags: number;
  /** Bytes of guest code covered. */
  readonly size: number;
  readonly nbInsns: number;
}

/** Zero-padded hex of a guest address, as QEMU's TARGET_FMT_lx for the address width. */
export function hexAddr(v: bigint, bits: 32 | 64): string {
  const mask = bits === 64 ? (1n << 64n) - 1n : 0xffffffffn;
  return (v & mask).toString(16).padStart(bits / 4, '0');
}

/**
 * The `in_asm` block of one TB (QEMU translator_loop's log + target_disas):
 * ```
 * ----------------
 * IN: main
 * Priv: 3; Virt: 0
 * 0x0000000080000000:  00000297          auipc t0,0x0
 *
 * ```
 * `code` holds the TB's guest bytes (`tb.size` of them); `symbol` names the TB's pc (empty if none).
 */
export function formatInAsm(tb: TraceTb, code: Uint8Array, target: TraceTarget, symbol: string): string {
  const lines = ['----------------', `IN: ${symbol}`];
  const header = target.tbHeader?.(tb.flags);
  if (header) lines.push(header);
  let off = 0;
  while (off < code.length) {
    const pc = tb.pc + BigInt(off);
    const rest = code.subarray(off);
    let insn: TraceInsn;
    try {
      insn = target.disassemble(rest, pc);
    } catch {
      insn = { length: rest.length, text: '(undecodable)' };
    }
    const len = Math.max(1, Math.min(insn.length, rest.length));
    lines.push(`0x${hexAddr(pc, target.addressBits)}:  ${opcodeHex(rest.subarray(0, len)).padEnd(18)}${insn.text}`);
    off += len;
  }
  return lines.join('\n') + '\n';
}

/** Instruction bytes as one little-endian number in hex (`00000297`, `4501`), as QEMU's disassemblers print them. */
function opcodeHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = bytes.length - 1; i >= 0; i--) s += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

/**
 * The `exec` line of one TB entry (QEMU 7.2 log_cpu_exec):
 * `Trace 0: 0x0000000000000001 [0000000000000000/0000000080000000/00000003/00000000] main`.
 * QEMU's second field is the host address of the translated code; softboard has none and prints the
 * TB's serial number in this trace instead (`tbId`), so equal numbers mean the same translation.
 */
export function formatExec(cpuIndex: number, tbId: number, tb: TraceTb, bits: 32 | 64, symbol: string): string {
  const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
  return `Trace ${cpuIndex}: 0x${tbId.toString(16).padStart(16, '0')} [${hexAddr(0n, bits)}/${hexAddr(tb.pc, bits)}/${hex8(tb.flags)}/${hex8(tb.cflags)}] ${symbol}`;
}

/** The `mmu` line of a TLB fill (QEMU 7.2 riscv_cpu_tlb_fill's two messages, joined). */
export function formatTlbFill(fill: TraceTlbFill, bits: 32 | 64): string {
  const head = `riscv_cpu_tlb_fill ad ${fill.vaddr.toString(16)} rw ${fill.access} mmu_idx ${fill.mmuIdx}`;
  if (fill.result === null) return `${head}: fault`;
  return `${head}: physical ${hexAddr(fill.result.physPage, bits)} prot ${fill.result.prot}`;
}

/** Options of a trace (`Machine.trace`). */
export interface TraceOptions {
  /** Items, as `'in_asm,exec,int,mmu'`, `'all'` or an array. */
  readonly items: string | readonly string[];
  /** Where lines go (default: the machine's logger sink, under the item's `-d` category). */
  readonly sink?: TraceSink;
  /** Only trace TBs whose pc is in `[start, end)` (QEMU `-dfilter`). */
  readonly range?: { readonly start: bigint; readonly end: bigint };
}

/** A running trace; {@link stop} detaches it from the CPUs. */
export interface TraceHandle {
  /** The items being traced. */
  readonly items: ReadonlySet<TraceItem>;
  /** Lines emitted so far, by item. */
  readonly counts: Readonly<Record<TraceItem, number>>;
  /** Stops the trace (idempotent). */
  stop(): void;
}

/**
 * The per-trace state the machine drives from the CPU hooks: which TBs were already shown (`in_asm`
 * prints each translation once, when it first runs; a re-translation after a flush is a new TB and is
 * printed again, as QEMU does), and serial numbers for `exec`.
 */
export class TraceSession<T extends object = TraceTb> {
  readonly items: ReadonlySet<TraceItem>;
  readonly counts: Record<TraceItem, number> = { in_asm: 0, int: 0, exec: 0, mmu: 0 };
  readonly #sink: TraceSink;
  readonly #ids = new WeakMap<T, number>();
  #nextId = 1;
  readonly #range: { readonly start: bigint; readonly end: bigint } | undefined;

  constructor(items: ReadonlySet<TraceItem>, sink: TraceSink, range?: { readonly start: bigint; readonly end: bigint }) {
    this.items = items;
    this.#sink = sink;
    this.#range = range;
  }

  /** True if `pc` passes the range filter. */
  inRange(pc: bigint): boolean {
    const r = this.#range;
    return r === undefined || (pc >= r.start && pc < r.end);
  }

  /**
   * A TB is about to run: prints its `in_asm` block the first time this TB object is seen (using
   * `code()` for its bytes), then its `exec` line.
   */
  tbEntered(cpuIndex: number, tb: T & TraceTb, target: TraceTarget, symbol: (pc: bigint) => string, code: () => Uint8Array): void {
    if (!this.inRange(tb.pc)) return;
    let id = this.#ids.get(tb);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(tb, id);
      if (this.items.has('in_asm')) this.emit('in_asm', formatInAsm(tb, code(), target, symbol(tb.pc)));
    }
    if (this.items.has('exec')) this.emit('exec', formatExec(cpuIndex, id, tb, target.addressBits, symbol(tb.pc)));
  }

  /** Sends one message. */
  emit(item: TraceItem, text: string): void {
    this.counts[item]++;
    this.#sink(item, text.endsWith('\n') ? text.slice(0, -1) : text);
  }
}

/**
 * A target that knows nothing of the instruction set: 4-byte words printed as `.4byte 0x…` (used
 * when the board gives no {@link TraceTarget}).
 */
export function rawTraceTarget(addressBits: 32 | 64): TraceTarget {
  return {
    addressBits,
    disassemble(bytes) {
      const n = Math.min(4, bytes.length);
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + (bytes[i] ?? 0);
      return { length: n, text: `.${n}byte 0x${v.toString(16)}` };
    },
  };
}
