/**
 * The RISC-V side of the gdb stub (QEMU target/riscv/gdbstub.c and gdb-xml/riscv-*.xml): a
 * {@link GdbTarget} over a {@link RiscvCpu}.
 *
 * Register numbers are those gdb's riscv-tdep uses and QEMU serves: x0..x31 = 0..31, pc = 32,
 * f0..f31 = 33..64, CSR n = 65 + n (so fflags 66, frm 67, fcsr 68, mstatus 833), and the virtual `priv`
 * register = 65 + 4096. `g` carries x0..x31 and pc; the rest is read with `p`. The target description
 * (written here, after the layout of gdb's features/riscv/*.xml) has the features
 * `org.gnu.gdb.riscv.cpu`, `.fpu` (when the hart has F), `.csr` and `.virtual`.
 *
 * Memory accesses use virtual addresses translated as a load of the current privilege would be
 * (QEMU riscv_cpu_get_phys_page_debug), never setting A/D bits or raising, and not restricted by PMP.
 * CSRs are read and written as a debugger's accesses (csrReadDebug/csrWriteDebug: whatever the privilege,
 * mstatus.FS or counter enables, as QEMU riscv_csrrw_debug). Software and hardware breakpoints are both
 * the CPU's breakpoints (as QEMU under TCG); watchpoints use the CPU's memory
 * hooks, with one-instruction translation blocks while any is set, and stop after the accessing
 * instruction (as QEMU's TCG watchpoints without BP_STOP_BEFORE_ACCESS).
 * @module
 */
import type { RiscvCpu } from '../target/riscv/cpu.js';
import { csrCheck, csrReadDebug, csrWriteDebug, CSR_NAMES } from '../target/riscv/csr.js';
import type { Priv } from '../target/riscv/hart-state.js';
import { riscvGetPhysAddrDebug } from '../target/riscv/mmu.js';
import { mmuIndex, setPriv } from '../target/riscv/priv.js';
import {
  GDB_SIGNAL_SEGV, GDB_SIGNAL_TRAP, type GdbBreakpointResult, type GdbBreakpointType, type GdbRegisterValue,
  type GdbResumeResult, type GdbStopCause, type GdbStopEvent, type GdbTarget,
} from './target.js';

/** gdb register number of the pc. */
export const RISCV_GDB_PC = 32;
/** gdb register number of f0. */
export const RISCV_GDB_F0 = 33;
/** gdb register number of CSR 0 (CSR n is this + n). */
export const RISCV_GDB_CSR0 = 65;
/** gdb register number of the virtual `priv` register (QEMU riscv-*-virtual.xml). */
export const RISCV_GDB_PRIV = RISCV_GDB_CSR0 + 4096;

const CSR_FFLAGS = 1, CSR_FRM = 2, CSR_FCSR = 3;

/** Names and gdb types of x0..x31 (gdb features/riscv/64bit-cpu.xml). */
const XREGS: readonly (readonly [string, string])[] = [
  ['zero', 'int'], ['ra', 'code_ptr'], ['sp', 'data_ptr'], ['gp', 'data_ptr'], ['tp', 'data_ptr'],
  ['t0', 'int'], ['t1', 'int'], ['t2', 'int'], ['fp', 'data_ptr'], ['s1', 'int'],
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`a${i}`, 'int'] as const),
  ...[2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => [`s${i}`, 'int'] as const),
  ['t3', 'int'], ['t4', 'int'], ['t5', 'int'], ['t6', 'int'],
];
const FREGS: readonly string[] = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];

/** How a run or step of the guest ended, in the words of `CpuState.run` or `Machine.run`. */
export interface RiscvGdbRunOutcome {
  /**
   * `breakpoint`, `stalled`, `shutdown` (the guest ended; see `exitStatus`), `halt`/`idle` (waiting for
   * an interrupt); anything else (`budget`, `instructions`, `until`, `exit-request`, `paused`…) means
   * the slice ended without a stop.
   */
  readonly reason: string;
  /** With `shutdown`: the exit status to report (default 0). */
  readonly exitStatus?: number;
}

/** Guest physical memory for debugger accesses. */
export interface GdbPhysMemory {
  readBytes(addr: bigint, len: number): Uint8Array;
  writeBytes(addr: bigint, data: Uint8Array): void;
}

/** Options of {@link RiscvGdbTarget}. */
export interface RiscvGdbTargetOptions {
  /**
   * Physical memory for `m`/`M`/`X` (default: the CPU's address space; writes to RAM through it
   * invalidate translated code). Give the machine's `AddressSpace` when the CPU's is a wrapper.
   */
  readonly memory?: GdbPhysMemory;
  /**
   * Runs the guest for a slice (default `cpu.run({ instructions, until })`). A machine passes its own
   * run loop so timers and devices advance: `(n, until) => machine.run({ instructions: n, until })`.
   * It must stop when `until()` turns true (checked at translation-block boundaries).
   */
  readonly run?: (instructions: number, until: () => boolean) => RiscvGdbRunOutcome;
  /** Executes one instruction (default `cpu.step()`); a machine passes `() => machine.step(1)`. */
  readonly step?: () => RiscvGdbRunOutcome;
  /** Answers `monitor` commands. */
  readonly monitor?: (command: string) => string;
}

interface BpEntry {
  sw: number;
  hw: number;
  /** The stub added the CPU breakpoint (the embedder had none there). */
  owned: boolean;
}

interface Watch {
  readonly type: 'write' | 'read' | 'access';
  readonly addr: bigint;
  readonly len: number;
}

/** A {@link GdbTarget} for one {@link RiscvCpu}. See the module comment. */
export class RiscvGdbTarget implements GdbTarget {
  readonly features: ReadonlyMap<string, string>;
  readonly gRegisterCount = 33;
  readonly #cpu: RiscvCpu;
  readonly #opts: RiscvGdbTargetOptions;
  readonly #xbytes: number;
  readonly #flen: 0 | 32 | 64;
  readonly #csrs: ReadonlySet<number>;
  readonly #mask: bigint;
  readonly #bps = new Map<bigint, BpEntry>();
  readonly #watches: Watch[] = [];
  #watchHit: GdbStopCause | null = null;
  #hooked = false;

  constructor(cpu: RiscvCpu, options: RiscvGdbTargetOptions = {}) {
    this.#cpu = cpu;
    this.#opts = options;
    this.#xbytes = cpu.xlen / 8;
    this.#mask = cpu.xlen === 64 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
    this.#flen = cpu.hasExt('F') ? (cpu.hasExt('D') ? 64 : 32) : 0;
    this.#csrs = new Set(debugCsrs(cpu));
    this.features = new Map([['target.xml', this.#targetXml()]]);
  }

  // ---- target description ------------------------------------------------------------------------

  #targetXml(): string {
    const xl = this.#cpu.xlen;
    const lines = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
      '<target version="1.0">',
      `<architecture>riscv:rv${xl}</architecture>`,
      '<feature name="org.gnu.gdb.riscv.cpu">',
      ...XREGS.map(([n, t], i) => `  <reg name="${n}" bitsize="${xl}" type="${t}" regnum="${i}"/>`),
      `  <reg name="pc" bitsize="${xl}" type="code_ptr" regnum="${RISCV_GDB_PC}"/>`,
      '</feature>',
    ];
    if (this.#flen !== 0) {
      lines.push('<feature name="org.gnu.gdb.riscv.fpu">');
      const type = this.#flen === 64 ? 'riscv_double' : 'ieee_single';
      if (this.#flen === 64) {
        lines.push('  <union id="riscv_double">', '    <field name="float" type="ieee_single"/>',
          '    <field name="double" type="ieee_double"/>', '  </union>');
      }
      FREGS.forEach((n, i) => lines.push(`  <reg name="${n}" bitsize="${this.#flen}" type="${type}" regnum="${RISCV_GDB_F0 + i}"/>`));
      for (const [n, no] of [['fflags', CSR_FFLAGS], ['frm', CSR_FRM], ['fcsr', CSR_FCSR]] as const) {
        lines.push(`  <reg name="${n}" bitsize="32" type="int" regnum="${RISCV_GDB_CSR0 + no}"/>`);
      }
      lines.push('</feature>');
    }
    lines.push('<feature name="org.gnu.gdb.riscv.csr">');
    for (const no of this.#csrs) {
      lines.push(`  <reg name="${CSR_NAMES.get(no)!}" bitsize="${xl}" type="int" regnum="${RISCV_GDB_CSR0 + no}"/>`);
    }
    lines.push('</feature>', '<feature name="org.gnu.gdb.riscv.virtual">',
      `  <reg name="priv" bitsize="${xl}" type="int" regnum="${RISCV_GDB_PRIV}"/>`, '</feature>', '</target>', '');
    return lines.join('\n');
  }

  // ---- registers ---------------------------------------------------------------------------------

  readRegister(regnum: number): GdbRegisterValue | undefined {
    const cpu = this.#cpu;
    if (regnum >= 0 && regnum < 32) return le(cpu.getX(regnum), this.#xbytes);
    if (regnum === RISCV_GDB_PC) return le(cpu.pc, this.#xbytes);
    if (regnum >= RISCV_GDB_F0 && regnum < RISCV_GDB_F0 + 32 && this.#flen !== 0) {
      return le(cpu.getF(regnum - RISCV_GDB_F0), this.#flen / 8);
    }
    const csr = regnum - RISCV_GDB_CSR0;
    if (this.#flen !== 0 && csr >= CSR_FFLAGS && csr <= CSR_FCSR) {
      const v = csr === CSR_FFLAGS ? cpu.fflags : csr === CSR_FRM ? cpu.frm : (cpu.frm << 5) | cpu.fflags;
      return le(BigInt(v), 4);
    }
    if (regnum === RISCV_GDB_PRIV) return le(BigInt(cpu.hart.priv), this.#xbytes);
    if (this.#csrs.has(csr)) {
      // A debugger sees every CSR whatever the current privilege (QEMU riscv_csrrw_debug).
      const v = attempt(() => csrReadDebug(cpu.hart, csr));
      return v === null ? { unavailable: this.#xbytes } : le(v, this.#xbytes);
    }
    return undefined;
  }

  writeRegister(regnum: number, bytes: Uint8Array): boolean {
    const cpu = this.#cpu;
    const v = fromLe(bytes);
    if (regnum >= 0 && regnum < 32) { cpu.setX(regnum, v); return true; }
    if (regnum === RISCV_GDB_PC) { cpu.pc = v; return true; }
    if (regnum >= RISCV_GDB_F0 && regnum < RISCV_GDB_F0 + 32 && this.#flen !== 0) {
      // A single-precision register of an F-only hart is stored NaN-boxed.
      cpu.setF(regnum - RISCV_GDB_F0, this.#flen === 32 ? (v & 0xffff_ffffn) | 0xffff_ffff_0000_0000n : v);
      return true;
    }
    const csr = regnum - RISCV_GDB_CSR0;
    if (this.#flen !== 0 && csr >= CSR_FFLAGS && csr <= CSR_FCSR) {
      const n = Number(v & 0xffn);
      if (csr === CSR_FFLAGS) cpu.fflags = n;
      else if (csr === CSR_FRM) cpu.frm = n;
      else { cpu.frm = n >>> 5; cpu.fflags = n; }
      return true;
    }
    if (regnum === RISCV_GDB_PRIV) {
      if (v !== 0n && v !== 1n && v !== 3n) return false;
      setPriv(cpu.hart, Number(v) as Priv);
      return true;
    }
    if (this.#csrs.has(csr)) {
      return attempt(() => { csrWriteDebug(cpu.hart, csr, v & this.#mask); return true; }) ?? false;
    }
    return false;
  }

  setPc(addr: bigint): void {
    this.#cpu.pc = addr;
  }

  // ---- memory ------------------------------------------------------------------------------------

  /** Physical address of `vaddr` for the debugger, or null. */
  #phys(vaddr: bigint): bigint | null {
    const cpu = this.#cpu;
    try {
      return riscvGetPhysAddrDebug(cpu.hart, cpu.phys, vaddr, mmuIndex(cpu.hart, false));
    } catch {
      return null;
    }
  }

  /** Applies `fn` to each piece of `[addr, addr+len)` that lies within one 4 KiB page. */
  #pages(addr: bigint, len: number, fn: (pa: bigint, off: number, n: number) => boolean): boolean {
    let done = 0;
    while (done < len) {
      const va = (addr + BigInt(done)) & this.#mask;
      const n = Math.min(len - done, 0x1000 - Number(va & 0xfffn));
      const pa = this.#phys(va);
      if (pa === null || !fn(pa, done, n)) return false;
      done += n;
    }
    return true;
  }

  readMemory(addr: bigint, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    const ok = this.#pages(addr, len, (pa, off, n) => {
      const b = this.#physRead(pa, n);
      if (b === null) return false;
      out.set(b, off);
      return true;
    });
    return ok ? out : null;
  }

  writeMemory(addr: bigint, data: Uint8Array): boolean {
    return this.#pages(addr, data.length, (pa, off, n) => this.#physWrite(pa, data.subarray(off, off + n)));
  }

  #physRead(pa: bigint, n: number): Uint8Array | null {
    try {
      const mem = this.#physMemory();
      if (mem) return mem.readBytes(pa, n);
      const as = this.#cpu.addressSpace;
      if (!as) return null;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(as.read(pa + BigInt(i), 1));
      return out;
    } catch {
      return null;
    }
  }

  #physWrite(pa: bigint, data: Uint8Array): boolean {
    try {
      const mem = this.#physMemory();
      if (mem) { mem.writeBytes(pa, data); return true; }
      const as = this.#cpu.addressSpace;
      if (!as) return false;
      for (let i = 0; i < data.length; i++) as.write(pa + BigInt(i), BigInt(data[i]!), 1);
      return true;
    } catch {
      return false;
    }
  }

  /** The bulk accessor: the option, or the CPU's address space when it is a full `AddressSpace`. */
  #physMemory(): GdbPhysMemory | null {
    if (this.#opts.memory) return this.#opts.memory;
    const as = this.#cpu.addressSpace as Partial<GdbPhysMemory> | null;
    return as && typeof as.readBytes === 'function' && typeof as.writeBytes === 'function' ? (as as GdbPhysMemory) : null;
  }

  // ---- execution ---------------------------------------------------------------------------------

  step(): GdbStopEvent {
    this.#watchHit = null;
    const r = this.#opts.step ? this.#opts.step() : this.#cpu.step();
    const ev = this.#outcome(r);
    if (ev.kind === 'exited') return ev;
    // A step always reports SIGTRAP, with the watchpoint it hit if any.
    if (this.#watchHit !== null) return { kind: 'signal', signal: GDB_SIGNAL_TRAP, cause: this.#watchHit };
    return { kind: 'signal', signal: ev.kind === 'signal' ? ev.signal : GDB_SIGNAL_TRAP };
  }

  resume(maxInstructions: number, shouldStop: () => boolean): GdbResumeResult {
    this.#watchHit = null;
    const until = (): boolean => this.#watchHit !== null || shouldStop();
    const r = this.#opts.run ? this.#opts.run(maxInstructions, until) : this.#cpu.run({ instructions: maxInstructions, until });
    const ev = this.#outcome(r);
    if (ev.kind !== 'running') return ev;
    if (this.#watchHit !== null) return { kind: 'signal', signal: GDB_SIGNAL_TRAP, cause: this.#watchHit };
    return ev;
  }

  #outcome(r: RiscvGdbRunOutcome): GdbResumeResult {
    switch (r.reason) {
      case 'breakpoint': {
        const e = this.#bps.get(this.#cpu.pc & this.#mask);
        const cause: GdbStopCause | undefined = e === undefined ? undefined
          : e.sw > 0 ? { type: 'swbreak' } : e.hw > 0 ? { type: 'hwbreak' } : undefined;
        return cause ? { kind: 'signal', signal: GDB_SIGNAL_TRAP, cause } : { kind: 'signal', signal: GDB_SIGNAL_TRAP };
      }
      case 'stalled': return { kind: 'signal', signal: GDB_SIGNAL_SEGV };
      case 'shutdown': return { kind: 'exited', status: (r.exitStatus ?? 0) & 0xff };
      case 'halt': case 'idle': return { kind: 'running', idle: true };
      default: return { kind: 'running' };
    }
  }

  // ---- breakpoints and watchpoints ---------------------------------------------------------------

  insertBreakpoint(type: GdbBreakpointType, addr: bigint, kind: number): GdbBreakpointResult {
    const a = addr & this.#mask;
    if (type === 'sw' || type === 'hw') {
      let e = this.#bps.get(a);
      if (!e) {
        const owned = !this.#cpu.breakpoints.has(a);
        if (owned) this.#cpu.addBreakpoint(a);
        e = { sw: 0, hw: 0, owned };
        this.#bps.set(a, e);
      }
      e[type]++;
      return 'ok';
    }
    if (kind <= 0) return 'error';
    this.#watches.push({ type, addr: a, len: kind });
    this.#syncWatchHooks();
    return 'ok';
  }

  removeBreakpoint(type: GdbBreakpointType, addr: bigint, kind: number): GdbBreakpointResult {
    const a = addr & this.#mask;
    if (type === 'sw' || type === 'hw') {
      const e = this.#bps.get(a);
      if (!e || e[type] === 0) return 'error';
      e[type]--;
      if (e.sw === 0 && e.hw === 0) {
        this.#bps.delete(a);
        if (e.owned) this.#cpu.removeBreakpoint(a);
      }
      return 'ok';
    }
    const i = this.#watches.findIndex((w) => w.type === type && w.addr === a && w.len === kind);
    if (i < 0) return 'error';
    this.#watches.splice(i, 1);
    this.#syncWatchHooks();
    return 'ok';
  }

  removeAllBreakpoints(): void {
    for (const [a, e] of this.#bps) if (e.owned) this.#cpu.removeBreakpoint(a);
    this.#bps.clear();
    this.#watches.length = 0;
    this.#syncWatchHooks();
  }

  /** Listens to the CPU's memory hooks only while a watchpoint exists (they slow every access). */
  #syncWatchHooks(): void {
    const want = this.#watches.length > 0;
    if (want === this.#hooked) return;
    const h = this.#cpu.hooks;
    if (want) {
      h.on('insn', this.#onInsn);
      h.on('mem:read', this.#onRead);
      h.on('mem:write', this.#onWrite);
    } else {
      h.off('insn', this.#onInsn);
      h.off('mem:read', this.#onRead);
      h.off('mem:write', this.#onWrite);
    }
    this.#hooked = want;
  }

  /** Listened to only so that translation blocks are one instruction: the stop is then exact. */
  readonly #onInsn = (): void => {};
  readonly #onRead = (vaddr: bigint, size: number): void => this.#access(vaddr, size, false);
  readonly #onWrite = (vaddr: bigint, size: number): void => this.#access(vaddr, size, true);

  #access(vaddr: bigint, size: number, isWrite: boolean): void {
    if (this.#watchHit !== null) return;
    const va = vaddr & this.#mask;
    for (const w of this.#watches) {
      if (w.type === 'write' && !isWrite) continue;
      if (w.type === 'read' && isWrite) continue;
      if (va < w.addr + BigInt(w.len) && w.addr < va + BigInt(size)) {
        this.#watchHit = { type: w.type === 'write' ? 'watch' : w.type === 'read' ? 'rwatch' : 'awatch', addr: w.addr };
        return;
      }
    }
  }
}

/** The CSRs the description lists: those this hart has (a debugger's access allowed), minus the FP ones. */
function debugCsrs(cpu: RiscvCpu): number[] {
  const h = cpu.hart;
  return [...CSR_NAMES.keys()]
    .filter((no) => no !== CSR_FFLAGS && no !== CSR_FRM && no !== CSR_FCSR && csrCheck(h, no, false, true) === null)
    .sort((a, b) => a - b);
}

/** `fn()`, or null if it throws (a CSR the hart lacks, a write to a read-only one). */
function attempt<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

/** `v` as `n` little-endian bytes. */
function le(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

/** Little-endian bytes → unsigned value. */
function fromLe(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}
