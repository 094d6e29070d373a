/**
 * The RISC-V CPU model (QEMU target/riscv/cpu.c RISCVCPU + the TCGCPUOps of cpu.c/cpu_helper.c):
 * integer/FP registers and pc in `env` (layout in cpu-state.ts), the privileged state in a
 * {@link RiscvHartState} (hart-state.ts, csr.ts, priv.ts, mmu.ts), and the {@link TcgCpuOps} the
 * execution loop drives: TB state, translation, exception delivery, interrupts and TLB fills.
 *
 * `RiscvCpu` is a QOM device (type `riscv-cpu`, extending H5's {@link CpuState}): a board gives it an
 * address space (`setAddressSpace`) and runs it with `run`/`step`. It can also be driven directly
 * through its {@link TcgCpuOps} methods (tests do, with their own loop). Its configuration (ISA,
 * hart id, reset vector) is given to the constructor; `createObject('riscv-cpu')` gives the default
 * RV64GC+Zba/Zbb/Zbc/Zbs hart.
 *
 * Helpers called from translated code receive this object as their `cpu` argument.
 */
import type { TcgContext } from '../../tcg/context.js';
import type { TcgExecutor } from '../../accel/tcg/cpu-exec.js';
import {
  MmuAccess, type TbState, type TcgCpuOps, type TlbFillResult, type TranslateRequest, type TranslateResult,
} from '../../accel/tcg/tcg-cpu-ops.js';
import type { Ext } from './decodetree.js';
import {
  createRiscvGlobals, ENV_FFLAGS, ENV_FRM, ENV_LOAD_RES, ENV_PC, FREG_ABI_NAMES, fOffset, RISCV_ENV_SIZE,
  XREG_ABI_NAMES, xOffset, type RiscvGlobals,
} from './cpu-state.js';
import { RISCV_HART_VMSTATE, RiscvHartState, type TlbFlushKind } from './hart-state.js';
import type { VmStateDescription } from '../../migration/vmstate.js';
import {
  hasWork, mmuIndex, RISCV_NB_MMU_MODES, riscvDoInterrupt, riscvExecInterrupt, tbFlags, tbFlagsFs,
  tbFlagsMemIdx, tbFlagsPriv, TB_FLAGS_XL64,
} from './priv.js';
import { riscvRaiseAlignmentFault, riscvRaiseBusError, riscvTlbFill, type RiscvPhysMemory } from './mmu.js';
import { csrNumber, csrReadDebug, csrWriteDebug } from './csr.js';
import { translateTb, type DisasFlags, type TranslatorCpu } from './translate.js';
import { CpuState, TYPE_CPU } from '../../hw/core/cpu.js';
import { defineType } from '../../qom/type.js';

/** The default ISA: what OpenSBI and U-Boot built for `rv64gc` expect, plus Zba/Zbb/Zbc/Zbs (as QEMU 7.2's default CPU). */
export const DEFAULT_RISCV_ISA = 'rv64imafdc_zicsr_zifencei_zba_zbb_zbc_zbs';

/** A bad ISA string or register name given by the user. */
export class RiscvConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RiscvConfigError';
  }
}

/** The parsed ISA configuration. */
export interface RiscvIsa {
  readonly xlen: 32 | 64;
  /** Single-letter extensions (lower case, with `s` and `u` for the privilege modes). */
  readonly letters: string;
  /** Multi-letter extensions, lower case (`zicsr`, `zba`…). */
  readonly z: ReadonlySet<string>;
}

const KNOWN_LETTERS = 'imafdc';
/** Multi-letter extensions the model implements, in canonical order. */
const KNOWN_Z_ORDER = ['zicsr', 'zifencei', 'zba', 'zbb', 'zbc', 'zbs'] as const;
const KNOWN_Z: ReadonlySet<string> = new Set(KNOWN_Z_ORDER);

/**
 * Parses an ISA string such as `rv64imafdc_zicsr_zifencei_zba_zbb_zbs` or `rv32gc`
 * (`g` = `imafd_zicsr_zifencei`). S and U modes are always present.
 * @throws RiscvConfigError for an unknown prefix or extension.
 */
export function parseRiscvIsa(isa: string): RiscvIsa {
  const m = /^rv(32|64)([a-z]*)((?:_[a-z0-9]+)*)$/.exec(isa.toLowerCase());
  if (!m) throw new RiscvConfigError(`RISC-V ISA string "${isa}": expected rv32/rv64 followed by extensions`);
  const xlen = Number(m[1]) as 32 | 64;
  let letters = '';
  const z = new Set<string>();
  for (const c of m[2]!) {
    if (c === 'g') { letters += 'imafd'; z.add('zicsr'); z.add('zifencei'); continue; }
    if (!KNOWN_LETTERS.includes(c)) throw new RiscvConfigError(`RISC-V ISA string "${isa}": unsupported extension "${c}"`);
    letters += c;
  }
  if (!letters.includes('i')) throw new RiscvConfigError(`RISC-V ISA string "${isa}": the base I extension is required`);
  if (letters.includes('d') && !letters.includes('f')) throw new RiscvConfigError(`RISC-V ISA string "${isa}": D requires F`);
  for (const part of m[3]!.split('_').filter((p) => p !== '')) {
    if (!KNOWN_Z.has(part)) throw new RiscvConfigError(`RISC-V ISA string "${isa}": unsupported extension "${part}"`);
    z.add(part);
  }
  return { xlen, letters: [...new Set(letters + 'su')].join(''), z };
}

/** Options of {@link RiscvCpu}. */
export interface RiscvCpuOptions {
  /** ISA string (default {@link DEFAULT_RISCV_ISA}); its prefix gives XLEN. */
  readonly isa?: string;
  readonly mhartid?: bigint;
  /** pc after reset (default 0x1000, the QEMU virt boot ROM). */
  readonly resetVector?: bigint;
  /** Physical memory for page-table walks (required as soon as satp enables translation). */
  readonly phys?: RiscvPhysMemory;
  /** mtime in 10 MHz ticks (default: 0). */
  readonly getTime?: () => bigint;
  /** Instructions retired (default: the counter the loop maintains in `RiscvCpu.instret`). */
  readonly getInstret?: () => bigint;
}

const ABI_X = new Map<string, number>(XREG_ABI_NAMES.map((n, i) => [n, i]));
ABI_X.set('fp', 8);
const ABI_F = new Map<string, number>(FREG_ABI_NAMES.map((n, i) => [n, i]));

/** Name of the RISC-V CPU QOM type. */
export const TYPE_RISCV_CPU = 'riscv-cpu';

/** A RISC-V hart for the TCG execution loop. */
export class RiscvCpu extends CpuState implements TcgCpuOps, TranslatorCpu {
  /**
   * Snapshot state (QEMU target/riscv/machine.c vmstate_riscv_cpu): env (x/f registers, pc, frm,
   * fflags, the LR reservation) as bytes, and the privileged state. The execution engine's part
   * (icount, halted) is saved by the machine snapshot for every CPU.
   */
  static readonly vmstate: VmStateDescription<RiscvCpu> = {
    name: TYPE_RISCV_CPU, version: 1,
    fields: [
      { name: 'env', kind: 'u8', array: RISCV_ENV_SIZE, get: (c) => c.envBytes },
      { name: 'hart', kind: 'struct', desc: RISCV_HART_VMSTATE },
    ],
  };

  // env and its views: replaced together (once) when env moves into a wasm tier's memory (placeEnv).
  env: ArrayBufferLike = new ArrayBuffer(RISCV_ENV_SIZE);
  envI32 = new Int32Array(this.env);
  /** env as doubles (the f registers, read by the D helpers: see fpu-helper.ts). */
  envF64 = new Float64Array(this.env);
  envView = new DataView(this.env);
  /** env as bytes. */
  envBytes = new Uint8Array(this.env);

  override get envWords(): Int32Array {
    return this.envI32;
  }

  protected override placeEnv(allocate: (bytes: number) => Int32Array): void {
    const w = allocate(RISCV_ENV_SIZE);
    w.set(this.envI32);
    const { buffer, byteOffset } = w;
    this.env = buffer;
    this.envI32 = w;
    this.envF64 = new Float64Array(buffer, byteOffset, RISCV_ENV_SIZE >> 3);
    this.envView = new DataView(buffer, byteOffset, RISCV_ENV_SIZE);
    this.envBytes = new Uint8Array(buffer, byteOffset, RISCV_ENV_SIZE);
  }
  readonly isa: RiscvIsa;
  readonly xlen: 32 | 64;
  readonly addrType: 'i32' | 'i64';
  readonly rvGlobals: RiscvGlobals;
  readonly globals;
  readonly hart: RiscvHartState;
  readonly nbMmuModes = RISCV_NB_MMU_MODES;
  readonly resetVector: bigint;
  /** Physical memory for page walks; the machine may replace it after construction. */
  phys: RiscvPhysMemory;
  /** WFI state when the CPU runs without an execution engine (no address space set). */
  #standaloneHalted = false;
  /** The execution engine once created (the base creates it lazily; see the `tcg` override). */
  #engine: TcgExecutor | null = null;
  /** Called to flush the soft TLB (satp writes, sfence.vma…); by default the engine's TLB. */
  onTlbFlush: (kind: TlbFlushKind) => void = () => { if (this.addressSpace) this.tlbFlush(); };
  /**
   * Called by fence.i. Nothing by default: the engine already invalidates code on every store that
   * hits it (QEMU riscv trans_fence_i likewise only ends the TB).
   */
  onFlushCode: () => void = () => {};
  /** Called when TB flags may have changed (priv, FS, MPRV…). TB lookups compare flags, so nothing by default. */
  onTbFlagsChange: () => void = () => {};

  constructor(options: RiscvCpuOptions = {}) {
    super();
    this.isa = parseRiscvIsa(options.isa ?? DEFAULT_RISCV_ISA);
    this.xlen = this.isa.xlen;
    this.addrType = this.xlen === 64 ? 'i64' : 'i32';
    this.rvGlobals = createRiscvGlobals();
    this.globals = this.rvGlobals.set;
    this.resetVector = options.resetVector ?? 0x1000n;
    this.phys = options.phys ?? this.addressSpacePhys();
    const getInstret = options.getInstret ?? (() => BigInt(this.icount));
    const getTime = options.getTime ?? (() => 0n);
    const h = new RiscvHartState(this.xlen, {
      ...(options.mhartid !== undefined ? { mhartid: options.mhartid } : {}),
      extensions: this.isa.letters,
    });
    h.getPc = () => this.pc;
    h.setPc = (pc) => { this.pc = pc; };
    h.getInstret = getInstret;
    h.getTime = getTime;
    h.onTlbFlush = (kind) => this.onTlbFlush(kind);
    h.onTbFlagsChange = () => this.onTbFlagsChange();
    h.setHalted = (v) => { this.halted = v; };
    h.readFcsr = () => (this.frm << 5) | this.fflags;
    h.writeFcsr = (v) => { this.frm = (v >>> 5) & 7; this.fflags = v & 0x1f; };
    h.clearReservation = () => { this.envView.setBigUint64(ENV_LOAD_RES, 0xffffffffffffffffn, true); };
    // Keep the loop's interruptRequest exact: raised on every change of mip/mie/mideleg/mstatus/priv
    // (device lines, CSR writes, traps, xRET, Sstc, reset, snapshot load), cleared by execInterrupt.
    h.onIrqStateChange = () => { const t = this.#engine; if (t !== null) t.interruptRequest = true; };
    this.hart = h;
    this.reset();
  }

  /** ISA string in canonical form (e.g. `rv64imafdc_zicsr_zifencei_zba_zbb_zbc_zbs`). */
  get isaString(): string {
    const letters = [...'imafdc'].filter((c) => this.isa.letters.includes(c)).join('');
    const z = KNOWN_Z_ORDER.filter((e) => this.isa.z.has(e));
    return `rv${this.xlen}${letters}${z.map((e) => `_${e}`).join('')}`;
  }

  /** Power-on reset (QEMU riscv_cpu_reset_hold): M-mode, pc = reset vector, registers zeroed. */
  override reset(): void {
    super.reset();
    this.envBytes.fill(0);
    this.hart.reset();
    this.pc = this.resetVector;
    this.envView.setBigUint64(ENV_LOAD_RES, 0xffffffffffffffffn, true);
    this.#standaloneHalted = false;
  }

  /** The execution engine; remembered so hart state changes can raise its `interruptRequest`. */
  override get tcg(): TcgExecutor {
    const t = this.#engine;
    if (t !== null) return t;
    const n = super.tcg;
    this.#engine = n;
    n.interruptRequest = true;
    return n;
  }

  /** Halted in WFI (the engine's flag once the CPU has an address space). */
  override get halted(): boolean {
    return this.addressSpace ? super.halted : this.#standaloneHalted;
  }
  override set halted(h: boolean) {
    if (this.addressSpace) super.halted = h;
    else this.#standaloneHalted = h;
  }

  /** Page walks through the CPU's address space (resolved at each access: it may be set later). */
  private addressSpacePhys(): RiscvPhysMemory {
    const as = (): NonNullable<CpuState['addressSpace']> => {
      const a = this.addressSpace;
      if (!a) throw new RiscvConfigError(`${this.toString()}: page walk but no address space or physical memory was given`);
      return a;
    };
    return {
      readPhys64: (a) => as().read(a, 8),
      readPhys32: (a) => Number(as().read(a, 4)),
      writePhys64: (a, v) => as().write(a, v, 8),
      writePhys32: (a, v) => as().write(a, BigInt(v >>> 0), 4),
    };
  }

  protected tcgOps(): TcgCpuOps {
    return this;
  }

  getRegister(name: string): bigint {
    return this.readReg(name);
  }

  setRegister(name: string, value: bigint): void {
    this.writeReg(name, value);
  }

  override registerNames(): readonly string[] {
    return [...XREG_ABI_NAMES, 'pc', ...(this.hasExt('F') ? FREG_ABI_NAMES : [])];
  }

  hasExt(e: Ext): boolean {
    if (e.length === 1) return this.hart.hasExt(e);
    return this.isa.z.has(e.toLowerCase());
  }

  // ---- registers --------------------------------------------------------------------------------

  override get pc(): bigint {
    return this.envView.getBigUint64(ENV_PC, true);
  }
  override set pc(v: bigint) {
    this.envView.setBigUint64(ENV_PC, this.xlen === 32 ? BigInt.asUintN(32, v) : BigInt.asUintN(64, v), true);
  }

  /** x[n] as an unsigned XLEN-bit value. */
  getX(n: number): bigint {
    if (n === 0) return 0n;
    const v = this.envView.getBigUint64(xOffset(n), true);
    return this.xlen === 32 ? v & 0xffffffffn : v;
  }
  /** Sets x[n] (ignored for x0); RV32 values are stored sign-extended (see cpu-state.ts). */
  setX(n: number, v: bigint): void {
    if (n === 0) return;
    const s = this.xlen === 32 ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : BigInt.asUintN(64, v);
    this.envView.setBigUint64(xOffset(n), s, true);
  }
  /** f[n] raw 64-bit value (singles NaN-boxed). */
  getF(n: number): bigint {
    return this.envView.getBigUint64(fOffset(n), true);
  }
  setF(n: number, v: bigint): void {
    this.envView.setBigUint64(fOffset(n), BigInt.asUintN(64, v), true);
  }
  get frm(): number { return this.envI32[ENV_FRM >> 2]!; }
  set frm(v: number) { this.envI32[ENV_FRM >> 2] = v & 7; }
  get fflags(): number { return this.envI32[ENV_FFLAGS >> 2]!; }
  set fflags(v: number) { this.envI32[ENV_FFLAGS >> 2] = v & 0x1f; }

  /**
   * Reads a register by name: `x0..x31`, ABI names (`ra`, `sp`, `a0`, `fp`…), `pc`, `f0..f31`, FP ABI
   * names (`fa0`…), or a CSR name (`mstatus`, `fcsr`…). Like a debugger (QEMU riscv_csrrw_debug), it
   * reads CSRs and FP registers whatever the current privilege and mstatus.FS.
   * @throws RiscvConfigError for an unknown name; RiscvIllegalCsr for a CSR this hart does not have.
   */
  readReg(name: string): bigint {
    const r = this.resolveReg(name);
    switch (r.kind) {
      case 'pc': return this.pc;
      case 'x': return this.getX(r.n);
      case 'f': return this.getF(r.n);
      case 'csr': return csrReadDebug(this.hart, r.n);
    }
  }

  /**
   * Writes a register by name (see {@link readReg}), whatever the privilege and mstatus.FS; CSR writes
   * keep their WARL rules and side effects (an fcsr write marks FS dirty, as QEMU's).
   */
  writeReg(name: string, value: bigint): void {
    const r = this.resolveReg(name);
    switch (r.kind) {
      case 'pc': this.pc = value; return;
      case 'x': this.setX(r.n, value); return;
      case 'f': this.setF(r.n, value); return;
      case 'csr': csrWriteDebug(this.hart, r.n, value & this.hart.xlenMask); return;
    }
  }

  private resolveReg(name: string): { kind: 'pc' | 'x' | 'f' | 'csr'; n: number } {
    const s = name.toLowerCase();
    if (s === 'pc') return { kind: 'pc', n: 0 };
    let m = /^x(\d+)$/.exec(s);
    if (m && Number(m[1]) < 32) return { kind: 'x', n: Number(m[1]) };
    m = /^f(\d+)$/.exec(s);
    if (m && Number(m[1]) < 32) return { kind: 'f', n: Number(m[1]) };
    const x = ABI_X.get(s);
    if (x !== undefined) return { kind: 'x', n: x };
    const f = ABI_F.get(s);
    if (f !== undefined) return { kind: 'f', n: f };
    const csr = csrNumber(s);
    if (csr !== undefined) return { kind: 'csr', n: csr };
    throw new RiscvConfigError(`RiscvCpu: unknown register "${name}"`);
  }

  // ---- TcgCpuOps ----------------------------------------------------------------------------------

  getTbState(): TbState {
    return { pc: this.pc, flags: tbFlags(this.hart) };
  }

  /** Byte offset of the pc in env, for the loop's fast TB-state path (RV32: the low word is the pc). */
  readonly pcEnvOffset = ENV_PC;

  getTbFlags(): number {
    return tbFlags(this.hart);
  }

  raiseAlignmentFault(vaddr: bigint, access: MmuAccess, _mmuIdx: number): never {
    return riscvRaiseAlignmentFault(this.hart, vaddr, access);
  }

  setPc(pc: bigint): void {
    this.pc = pc;
  }

  translate(ctx: TcgContext, req: TranslateRequest): TranslateResult {
    return translateTb(ctx, this, req);
  }

  decodeTbFlags(flags: number): DisasFlags {
    return {
      priv: tbFlagsPriv(flags),
      memIdx: tbFlagsMemIdx(flags),
      fs: tbFlagsFs(flags),
      xlen: (flags & TB_FLAGS_XL64) !== 0 ? 64 : 32,
    };
  }

  restoreStateToOpc(data: readonly number[]): void {
    const lo = BigInt((data[0] ?? 0) >>> 0);
    const hi = BigInt((data[1] ?? 0) >>> 0);
    this.pc = (hi << 32n) | lo;
  }

  mmuIndexForFetch(): number {
    return mmuIndex(this.hart, true);
  }

  tlbFill(vaddr: bigint, access: MmuAccess, mmuIdx: number, probe: boolean): TlbFillResult | null {
    return riscvTlbFill(this.hart, this.phys, vaddr, access, mmuIdx, probe, this.log);
  }

  doInterrupt(): void {
    riscvDoInterrupt(this.hart, this.log);
  }

  execInterrupt(): boolean {
    if (riscvExecInterrupt(this.hart, this.log)) return true;
    // Nothing pending and enabled: the loop need not ask again until the hart's interrupt state changes
    // (onIrqStateChange sets the flag again).
    const t = this.#engine;
    if (t !== null) t.interruptRequest = false;
    return false;
  }

  hasWork(): boolean {
    return hasWork(this.hart);
  }

  raiseBusError(vaddr: bigint, access: MmuAccess): never {
    return riscvRaiseBusError(this.hart, vaddr, access);
  }

  /** fence.i: drop translated code (helper side). */
  flushCode(): void {
    this.onFlushCode();
  }
}

defineType({ name: TYPE_RISCV_CPU, parent: TYPE_CPU, instance: RiscvCpu, description: 'RISC-V hart (RV64/RV32 IMAFDC, Zicsr, Zifencei, Zba, Zbb, Zbc, Zbs)' });
