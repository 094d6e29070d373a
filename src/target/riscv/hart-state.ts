/**
 * The privileged state of one RISC-V hart: every CSR the privileged architecture defines that
 * softboard implements, held as plain JS fields (QEMU target/riscv/cpu.h CPURISCVState, the part that
 * translated code does not touch directly), plus the callbacks through which the CPU model (H6's
 * `RiscvCpu`) and the machine connect it to the pc, the clocks, the soft TLB and the FPU state.
 *
 * The functions working on this state live next to it: `csr.ts` (CSR access), `priv.ts` (traps,
 * interrupts, xRET, WFI, MMU index, TB flags), `mmu.ts` (page walks), `pmp.ts` (physical memory
 * protection). Numbers follow the RISC-V privileged spec 1.12 and QEMU `target/riscv/cpu_bits.h`.
 *
 * Representation choices (for speed at TB boundaries, where `tbFlags`/`riscvExecInterrupt` run):
 * - `mstatus` is kept as two unsigned 32-bit halves (`mstatusLo`, `mstatusHi`); the `mstatus` accessor
 *   gives the 64-bit bigint view (SD is *not* stored: it is computed on CSR reads, as QEMU add_status_sd).
 * - interrupt bits (`mip`, `mie`, `mideleg`) and `medeleg` are numbers (all defined bits are < 2^24).
 * - address-sized CSRs (`mtvec`, `mepc`, `satp`…) are bigints, already truncated to XLEN bits.
 */
import { VmStateError, type VmStateDescription } from '../../migration/vmstate.js';

/** Privilege levels (QEMU PRV_U/PRV_S/PRV_M). */
export const PRV_U = 0, PRV_S = 1, PRV_M = 3;
/** A privilege level. 2 (hypervisor) is reserved and never used. */
export type Priv = 0 | 1 | 3;

// ---- exception causes (QEMU RISCV_EXCP_*) ----------------------------------------------------------
export const EXCP_INST_ADDR_MIS = 0;
export const EXCP_INST_ACCESS_FAULT = 1;
export const EXCP_ILLEGAL_INST = 2;
export const EXCP_BREAKPOINT = 3;
export const EXCP_LOAD_ADDR_MIS = 4;
export const EXCP_LOAD_ACCESS_FAULT = 5;
export const EXCP_STORE_AMO_ADDR_MIS = 6;
export const EXCP_STORE_AMO_ACCESS_FAULT = 7;
/**
 * Environment call. Raise it with cause 8 from any mode: `riscvDoInterrupt` turns it into
 * 8 (U), 9 (S) or 11 (M) from the current privilege, as QEMU riscv_cpu_do_interrupt does.
 */
export const EXCP_U_ECALL = 8;
export const EXCP_S_ECALL = 9;
export const EXCP_M_ECALL = 11;
export const EXCP_INST_PAGE_FAULT = 12;
export const EXCP_LOAD_PAGE_FAULT = 13;
export const EXCP_STORE_PAGE_FAULT = 15;

// ---- interrupt numbers and mip/mie bits (QEMU IRQ_*, MIP_*) ----------------------------------------
export const IRQ_S_SOFT = 1, IRQ_M_SOFT = 3, IRQ_S_TIMER = 5, IRQ_M_TIMER = 7, IRQ_S_EXT = 9, IRQ_M_EXT = 11;
export const MIP_SSIP = 1 << IRQ_S_SOFT;
export const MIP_MSIP = 1 << IRQ_M_SOFT;
export const MIP_STIP = 1 << IRQ_S_TIMER;
export const MIP_MTIP = 1 << IRQ_M_TIMER;
export const MIP_SEIP = 1 << IRQ_S_EXT;
export const MIP_MEIP = 1 << IRQ_M_EXT;
export const S_MODE_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP;
export const M_MODE_INTERRUPTS = MIP_MSIP | MIP_MTIP | MIP_MEIP;

// ---- mstatus bits (low word; QEMU MSTATUS_*) --------------------------------------------------------
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_UBE = 1 << 6;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_VS = 3 << 9;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS_SHIFT = 13;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_XS = 3 << 15;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
/** SD of RV32 mstatus/sstatus (bit 31). RV64's SD is bit 63. */
export const MSTATUS32_SD = 0x80000000;
// high word (bits 32..63 of the 64-bit mstatus, i.e. RV32 mstatush)
/** UXL field in `mstatusHi` (bits 33:32 of mstatus). */
export const MSTATUSH_UXL_SHIFT = 0;
/** SXL field in `mstatusHi` (bits 35:34 of mstatus). */
export const MSTATUSH_SXL_SHIFT = 2;
export const MSTATUSH_SBE = 1 << 4;
export const MSTATUSH_MBE = 1 << 5;

/** FS field values (mstatus.FS). */
export const FS_OFF = 0, FS_INITIAL = 1, FS_CLEAN = 2, FS_DIRTY = 3;

// ---- satp modes -------------------------------------------------------------------------------------
export const SATP_MODE_BARE = 0, SATP_MODE_SV32 = 1, SATP_MODE_SV39 = 8, SATP_MODE_SV48 = 9, SATP_MODE_SV57 = 10;

// ---- menvcfg ----------------------------------------------------------------------------------------
export const MENVCFG_FIOM = 1n;
/** Sstc enable (bit 63; RV32: bit 31 of menvcfgh). */
export const MENVCFG_STCE = 1n << 63n;

/** Number of PMP entries (QEMU MAX_RISCV_PMPS). */
export const PMP_ENTRIES = 16;

/** What a TLB flush request covers. Only full flushes are issued for now (satp, sfence.vma, PMP, MXR). */
export type TlbFlushKind = 'all';

/** An exception or interrupt recorded for `riscvDoInterrupt` (QEMU cs->exception_index + badaddr). */
export interface PendingTrap {
  /** Exception code (without the interrupt bit). */
  readonly cause: number;
  /** Value for xtval. */
  readonly tval: bigint;
  /** true for an interrupt (async), false for a synchronous exception. */
  readonly interrupt: boolean;
}

/**
 * The callbacks a hart needs from its CPU and machine. All have harmless defaults so a bare
 * {@link RiscvHartState} works in unit tests; `RiscvCpu` replaces them.
 */
export interface RiscvHartHooks {
  /** Current pc (of the instruction being executed or about to be). */
  getPc(): bigint;
  /** Sets the pc (trap entry). */
  setPc(pc: bigint): void;
  /** Instructions retired so far (drives mcycle/minstret/cycle/instret). */
  getInstret(): bigint;
  /** mtime: 10 MHz ticks of the machine's virtual clock (drives `time` and Sstc). */
  getTime(): bigint;
  /** Flush the soft TLB (every MMU index). */
  onTlbFlush(kind: TlbFlushKind): void;
  /**
   * Something translation depends on changed (priv, MPRV/MPP/SUM, FS…): the CPU must not continue in a
   * TB translated for the old flags. Called after the state is updated.
   */
  onTbFlagsChange(): void;
  /** WFI: stop fetching until `hasWork`. */
  setHalted(halted: boolean): void;
  /** fcsr = frm << 5 | fflags (the FPU state lives in env, owned by the CPU). */
  readFcsr(): number;
  writeFcsr(value: number): void;
  /** Trap entry / xRET changed privilege: the LR reservation must be dropped (QEMU riscv_cpu_set_mode). */
  clearReservation(): void;
  /**
   * Sstc: stimecmp was written and is in the future; the machine should call `stimerExpired(h)`
   * (priv.ts) once mtime >= `deadline` (a new call replaces the previous deadline).
   */
  scheduleStimer(deadline: bigint): void;
}

const noop = (): void => {};

/** The privileged state of one hart. See the module comment for representation choices. */
export class RiscvHartState implements RiscvHartHooks {
  /** Base ISA width of the hart (misa.MXL). */
  readonly xlen: 32 | 64;
  /** All ones at XLEN bits, for truncating address-sized values. */
  readonly xlenMask: bigint;
  /**
   * Called after any write to the state that decides whether an interrupt is pending and enabled
   * (`priv`, `mstatusLo`, `mip`, `mie`, `mideleg`): `RiscvCpu` sets the loop's `interruptRequest`
   * there, so the loop can skip `execInterrupt` while nothing changed (QEMU cpu_interrupt).
   * Plain field: not part of {@link RiscvHartHooks} so existing hook objects stay valid.
   */
  onIrqStateChange: () => void = noop;

  #priv: Priv = PRV_M;
  #mstatusLo = 0;
  #mip = 0;
  #mie = 0;
  #mideleg = 0;

  /**
   * The interrupt-deciding fields as own enumerable accessors (so `Object.keys` and the vmstate see
   * them as data fields), sharing one getter/setter pair per field across instances.
   */
  static readonly #irqProps: PropertyDescriptorMap = {
    priv: { enumerable: true, get(this: RiscvHartState) { return this.#priv; }, set(this: RiscvHartState, v: Priv) { this.#priv = v; this.onIrqStateChange(); } },
    mstatusLo: { enumerable: true, get(this: RiscvHartState) { return this.#mstatusLo; }, set(this: RiscvHartState, v: number) { this.#mstatusLo = v; this.onIrqStateChange(); } },
    mip: { enumerable: true, get(this: RiscvHartState) { return this.#mip; }, set(this: RiscvHartState, v: number) { this.#mip = v; this.onIrqStateChange(); } },
    mie: { enumerable: true, get(this: RiscvHartState) { return this.#mie; }, set(this: RiscvHartState, v: number) { this.#mie = v; this.onIrqStateChange(); } },
    mideleg: { enumerable: true, get(this: RiscvHartState) { return this.#mideleg; }, set(this: RiscvHartState, v: number) { this.#mideleg = v; this.onIrqStateChange(); } },
  };

  /** Current privilege level (writes call {@link onIrqStateChange}). */
  declare priv: Priv;

  /** misa: MXL and extension letters (read-only: writes are ignored, as QEMU without misa_w). */
  misa: bigint;
  mhartid: bigint;
  mvendorid = 0n;
  marchid = 0n;
  mimpid = 0n;

  /** mstatus bits 31..0 (unsigned; writes call {@link onIrqStateChange}). */
  declare mstatusLo: number;
  /** mstatus bits 63..32 (RV32: mstatush). UXL/SXL are fixed to 2 on RV64. */
  mstatusHi = 0;

  /** Pending interrupts (mip) as seen by software and the interrupt logic (writes call {@link onIrqStateChange}). */
  declare mip: number;
  /** Enabled interrupts (writes call {@link onIrqStateChange}). */
  declare mie: number;
  /** Interrupts delegated to S-mode (writes call {@link onIrqStateChange}). */
  declare mideleg: number;
  medeleg = 0;
  /** SEIP written by software via mip; the visible SEIP is this OR the external line (QEMU software_seip). */
  softwareSeip = false;
  /** Level of the external S-mode interrupt line (QEMU external_seip). */
  externalSeip = false;

  mtvec = 0n;
  stvec = 0n;
  mepc = 0n;
  sepc = 0n;
  mcause = 0n;
  scause = 0n;
  mtval = 0n;
  stval = 0n;
  mscratch = 0n;
  sscratch = 0n;
  satp = 0n;

  mcounteren = 0;
  scounteren = 0;
  mcountinhibit = 0;
  /** mcycle = getInstret() + mcycleOffset (writes adjust the offset). */
  mcycleOffset = 0n;
  /** minstret = getInstret() + minstretOffset. */
  minstretOffset = 0n;

  /** menvcfg (RV32: menvcfgh in the upper 32 bits). Writable: FIOM, STCE. */
  menvcfg = 0n;
  /** senvcfg. Writable: FIOM. */
  senvcfg = 0n;
  /** Sstc supervisor timer compare (64-bit on both XLENs). */
  stimecmp = 0n;
  /** Sstc: stimecmp is in the future and STIP will be set when mtime reaches it. */
  stimerArmed = false;

  /** pmpcfg bytes of the 16 entries. */
  readonly pmpcfg = new Uint8Array(PMP_ENTRIES);
  /** pmpaddr registers (address bits 55:2 on RV64, 33:2 on RV32). */
  readonly pmpaddr: bigint[] = new Array<bigint>(PMP_ENTRIES).fill(0n);
  /** Decoded region start of each entry (inclusive), maintained by pmp.ts. */
  readonly pmpStart: bigint[] = new Array<bigint>(PMP_ENTRIES).fill(0n);
  /** Decoded region end of each entry (inclusive), maintained by pmp.ts. */
  readonly pmpEnd: bigint[] = new Array<bigint>(PMP_ENTRIES).fill(0n);
  /** Number of entries whose A field is not OFF. */
  pmpNumRules = 0;

  /** Exception/interrupt recorded by `raiseException`/`riscvExecInterrupt`, consumed by `riscvDoInterrupt`. */
  pendingException: PendingTrap | null = null;

  // ---- hooks (see RiscvHartHooks); replace them by assignment ----
  getPc: () => bigint = () => 0n;
  setPc: (pc: bigint) => void = noop;
  getInstret: () => bigint = () => 0n;
  getTime: () => bigint = () => 0n;
  onTlbFlush: (kind: TlbFlushKind) => void = noop;
  onTbFlagsChange: () => void = noop;
  setHalted: (halted: boolean) => void = noop;
  readFcsr: () => number = () => 0;
  writeFcsr: (value: number) => void = noop;
  clearReservation: () => void = noop;
  scheduleStimer: (deadline: bigint) => void = noop;

  /**
   * @param xlen base ISA width.
   * @param options `mhartid`, `misa` extension letters (default `imafdcsu`), and any hooks.
   */
  constructor(xlen: 32 | 64, options: { mhartid?: bigint; extensions?: string; hooks?: Partial<RiscvHartHooks> } = {}) {
    this.xlen = xlen;
    this.xlenMask = xlen === 64 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
    this.mhartid = options.mhartid ?? 0n;
    let ext = 0n;
    for (const c of (options.extensions ?? 'imafdcsu').toLowerCase()) {
      const bit = c.charCodeAt(0) - 97;
      if (bit >= 0 && bit < 26) ext |= 1n << BigInt(bit);
    }
    this.misa = (xlen === 64 ? 2n << 62n : 1n << 30n) | ext;
    Object.defineProperties(this, RiscvHartState.#irqProps);
    if (options.hooks) Object.assign(this, options.hooks);
    this.reset();
  }

  /** Full 64-bit mstatus without SD (RV32: mstatush in bits 63..32). */
  get mstatus(): bigint {
    return (BigInt(this.mstatusHi >>> 0) << 32n) | BigInt(this.mstatusLo >>> 0);
  }
  set mstatus(v: bigint) {
    this.mstatusLo = Number(v & 0xffff_ffffn) >>> 0;
    this.mstatusHi = Number((v >> 32n) & 0xffff_ffffn) >>> 0;
  }

  /** true if misa has extension `letter` (e.g. 'f', 'c', 's'). */
  hasExt(letter: string): boolean {
    return ((this.misa >> BigInt(letter.toLowerCase().charCodeAt(0) - 97)) & 1n) === 1n;
  }

  /** mstatus.FS (0 off, 1 initial, 2 clean, 3 dirty). */
  get fs(): number {
    return (this.mstatusLo >>> MSTATUS_FS_SHIFT) & 3;
  }

  /**
   * Reset as QEMU riscv_cpu_reset_hold: M-mode, MIE/MPRV clear, UXL/SXL = MXL, mcause 0, nothing pending
   * from software. CSR values not named by the spec's reset are cleared too (deterministic start).
   * The pc (reset vector) belongs to the CPU.
   */
  reset(): void {
    this.priv = PRV_M;
    this.mstatusLo = 0;
    this.mstatusHi = this.xlen === 64 ? (2 << MSTATUSH_UXL_SHIFT) | (2 << MSTATUSH_SXL_SHIFT) : 0;
    this.mip = 0; this.mie = 0; this.mideleg = 0; this.medeleg = 0;
    this.softwareSeip = false; this.externalSeip = false;
    this.mtvec = 0n; this.stvec = 0n; this.mepc = 0n; this.sepc = 0n;
    this.mcause = 0n; this.scause = 0n; this.mtval = 0n; this.stval = 0n;
    this.mscratch = 0n; this.sscratch = 0n; this.satp = 0n;
    this.mcounteren = 0; this.scounteren = 0; this.mcountinhibit = 0;
    this.mcycleOffset = 0n; this.minstretOffset = 0n;
    this.menvcfg = 0n; this.senvcfg = 0n; this.stimecmp = 0n; this.stimerArmed = false;
    this.pmpcfg.fill(0); this.pmpaddr.fill(0n); this.pmpStart.fill(0n); this.pmpEnd.fill(0n);
    this.pmpNumRules = 0;
    this.pendingException = null;
  }
}

/**
 * Snapshot state of a hart's privileged part (QEMU target/riscv/machine.c vmstate_riscv_cpu, the CSR
 * fields). Constant configuration (misa, mhartid, the vendor ids) is not saved: it comes with the
 * machine the state is loaded into. The decoded PMP ranges are saved as they are, not recomputed.
 */
export const RISCV_HART_VMSTATE: VmStateDescription<RiscvHartState> = {
  name: 'riscv-hart', version: 1,
  fields: [
    {
      name: 'priv', kind: 'u8',
      get: (h) => h.priv,
      set: (h, v: number) => {
        if (v !== PRV_U && v !== PRV_S && v !== PRV_M) throw new VmStateError(`riscv-hart.priv: expected 0, 1 or 3, got ${v}`);
        h.priv = v;
      },
    },
    { name: 'mstatusLo', kind: 'u32' },
    { name: 'mstatusHi', kind: 'u32' },
    { name: 'mip', kind: 'u32' },
    { name: 'mie', kind: 'u32' },
    { name: 'mideleg', kind: 'u32' },
    { name: 'medeleg', kind: 'u32' },
    { name: 'softwareSeip', kind: 'bool' },
    { name: 'externalSeip', kind: 'bool' },
    ...(['mtvec', 'stvec', 'mepc', 'sepc', 'mcause', 'scause', 'mtval', 'stval', 'mscratch', 'sscratch', 'satp'] as const)
      .map((name) => ({ name, kind: 'u64' as const })),
    { name: 'mcounteren', kind: 'u32' },
    { name: 'scounteren', kind: 'u32' },
    { name: 'mcountinhibit', kind: 'u32' },
    { name: 'mcycleOffset', kind: 'bigint' },
    { name: 'minstretOffset', kind: 'bigint' },
    { name: 'menvcfg', kind: 'u64' },
    { name: 'senvcfg', kind: 'u64' },
    { name: 'stimecmp', kind: 'u64' },
    { name: 'stimerArmed', kind: 'bool' },
    { name: 'pmpcfg', kind: 'u8', array: PMP_ENTRIES },
    { name: 'pmpaddr', kind: 'u64', array: PMP_ENTRIES },
    { name: 'pmpStart', kind: 'bigint', array: PMP_ENTRIES },
    { name: 'pmpEnd', kind: 'bigint', array: PMP_ENTRIES },
    { name: 'pmpNumRules', kind: 'u8' },
    {
      // Normally null between runs (recorded and delivered within one loop iteration).
      name: 'pendingException', kind: 'custom',
      save: (h) => h.pendingException === null ? null
        : { cause: h.pendingException.cause, tval: h.pendingException.tval.toString(), interrupt: h.pendingException.interrupt },
      load: (h, v) => {
        if (v === null) { h.pendingException = null; return; }
        const t = v as { cause?: unknown; tval?: unknown; interrupt?: unknown };
        if (typeof t !== 'object' || typeof t.cause !== 'number' || typeof t.tval !== 'string' || !/^\d+$/.test(t.tval) || typeof t.interrupt !== 'boolean') {
          throw new VmStateError(`riscv-hart.pendingException: expected null or { cause, tval, interrupt }, got ${JSON.stringify(v)}`);
        }
        h.pendingException = { cause: t.cause, tval: BigInt(t.tval), interrupt: t.interrupt };
      },
    },
  ],
};
