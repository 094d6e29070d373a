/**
 * What the gdb stub drives: an architecture-neutral view of one stopped CPU and its memory (the part of
 * QEMU's CPUClass gdb hooks + gdbstub/gdbstub.c's cpu_memory_rw_debug / gdb_breakpoint_insert that a
 * target supplies). `src/gdbstub/riscv.ts` adapts a `RiscvCpu`; other architectures add their own
 * adapter and XML without touching the protocol core.
 * @module
 */

/** GDB signal numbers used in stop replies (gdb/include/gdb/signals.def). */
export const GDB_SIGNAL_INT = 2;
export const GDB_SIGNAL_TRAP = 5;
export const GDB_SIGNAL_ABRT = 6;
export const GDB_SIGNAL_KILL = 9;
export const GDB_SIGNAL_SEGV = 11;

/** Breakpoint and watchpoint kinds of the `Z`/`z` packets (type 0..4). */
export type GdbBreakpointType = 'sw' | 'hw' | 'write' | 'read' | 'access';

/** Outcome of inserting or removing a breakpoint: `unsupported` makes the stub reply empty (gdb falls back). */
export type GdbBreakpointResult = 'ok' | 'error' | 'unsupported';

/** Why a stop happened, as the `T` stop reply details it (`swbreak:;`, `watch:addr;` …). */
export type GdbStopCause =
  | { readonly type: 'swbreak' }
  | { readonly type: 'hwbreak' }
  | { readonly type: 'watch' | 'rwatch' | 'awatch'; readonly addr: bigint };

/** A stop to report to gdb. */
export type GdbStopEvent =
  /** Stopped with a signal (5 SIGTRAP after a step or breakpoint, 2 SIGINT after Ctrl-C…). */
  | { readonly kind: 'signal'; readonly signal: number; readonly cause?: GdbStopCause }
  /** The guest ended (e.g. powered off): reply `Wnn`. */
  | { readonly kind: 'exited'; readonly status: number };

/** Result of one {@link GdbTarget.resume} slice. */
export type GdbResumeResult =
  | GdbStopEvent
  /** The slice ended without a stop; `idle` means the guest waits for an event (WFI with nothing pending). */
  | { readonly kind: 'running'; readonly idle?: boolean };

/** A register value, or the number of bytes of a register whose value cannot be read now. */
export type GdbRegisterValue = Uint8Array | { readonly unavailable: number };

/**
 * One CPU as gdb sees it. All methods are called while the guest is stopped (between run slices), and
 * none may throw for guest-caused conditions (bad address, absent CSR): they return null / false.
 */
export interface GdbTarget {
  /**
   * The target description documents by annex name (`target.xml` and any it includes), served through
   * `qXfer:features:read`.
   */
  readonly features: ReadonlyMap<string, string>;
  /** How many registers (numbers 0..n-1) the `g`/`G` packets carry; the others go through `p`/`P`. */
  readonly gRegisterCount: number;
  /** A register by gdb number, in target byte order; undefined if there is no such register. */
  readRegister(regnum: number): GdbRegisterValue | undefined;
  /** Writes a register by gdb number (bytes in target byte order); false if there is no such register. */
  writeRegister(regnum: number, bytes: Uint8Array): boolean;
  /** Reads guest virtual memory as the CPU sees it now; null if any byte is unmapped. */
  readMemory(addr: bigint, len: number): Uint8Array | null;
  /** Writes guest virtual memory (translated code covering it is invalidated); false on failure. */
  writeMemory(addr: bigint, data: Uint8Array): boolean;
  /** Sets the program counter (`c addr`, `s addr`). */
  setPc(addr: bigint): void;
  /** Executes one instruction and reports the stop (SIGTRAP, with the watchpoint hit if any). */
  step(): GdbStopEvent;
  /**
   * Runs up to `maxInstructions` instructions (one slice of a `continue`); must return early when
   * `shouldStop()` turns true (checked at least between translation blocks).
   */
  resume(maxInstructions: number, shouldStop: () => boolean): GdbResumeResult;
  /** Inserts a breakpoint (`sw`/`hw`: `kind` is gdb's breakpoint kind) or a watchpoint (`kind` = length). */
  insertBreakpoint(type: GdbBreakpointType, addr: bigint, kind: number): GdbBreakpointResult;
  /** Removes what {@link insertBreakpoint} inserted. */
  removeBreakpoint(type: GdbBreakpointType, addr: bigint, kind: number): GdbBreakpointResult;
  /** Removes every breakpoint and watchpoint gdb inserted (detach, kill, disconnect). */
  removeAllBreakpoints(): void;
  /** Answers a `monitor` command (`qRcmd`); absent: the stub replies that monitor commands are unsupported. */
  monitor?(command: string): string;
}
