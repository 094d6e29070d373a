/**
 * The guest memory layout and the stdin/stdout record formats shared by the qemu-riscv64 runner
 * (test/fixtures/difftest/runner.S, which documents the same numbers) and softboard's side of the
 * differential test. softboard runs the block at the same addresses, so pc-relative results
 * (auipc, jal/jalr links) compare equal.
 */

/** Save area of the runner (x0-relative); softboard maps RAM there too, unused. */
export const SAVE_AREA = 0x0n;
/** Where the code block starts (both sides). */
export const BLOCK_PC = 0x1200n;
/** Largest code block in bytes. */
export const CODE_MAX = 1024;
/** Data area for loads, stores and atomics. */
export const DATA_BASE = 0x2000n;
export const DATA_SIZE = 1024;
/** RAM softboard maps at 0 (the runner's mmap: save area, code page, data page). */
export const RAM_SIZE = 0x3000;

/** Input record: x[32] | f[32] | fcsr | code length | data[1024] | code[1024]. */
export const IN_RECORD = 8 * 32 + 8 * 32 + 8 + 8 + DATA_SIZE + CODE_MAX;
/** Output record: x[32] | f[32] | fcsr | signal | fault pc | data[1024]. */
export const OUT_RECORD = 8 * 32 + 8 * 32 + 8 + 8 + 8 + DATA_SIZE;

/** One instruction of a block: its bits and length (2 for compressed). */
export interface Insn {
  readonly bits: number;
  readonly size: 2 | 4;
}

/** One differential test case: the initial machine state and a straight-line code block. */
export interface DiffCase {
  /** x0..x31 initial values (unsigned 64-bit; x[0] is ignored). */
  readonly x: readonly bigint[];
  /** f0..f31 initial raw 64-bit values. */
  readonly f: readonly bigint[];
  /** Initial fcsr (frm always 0..4, so a dynamic rounding mode is valid). */
  readonly fcsr: number;
  /** The data area's initial contents ({@link DATA_SIZE} bytes at {@link DATA_BASE}). */
  readonly data: Uint8Array;
  /** The block, run from {@link BLOCK_PC} until the pc reaches its end. */
  readonly code: readonly Insn[];
}

/** The machine state after a block (or at the instruction that trapped). */
export interface DiffState {
  readonly x: readonly bigint[];
  readonly f: readonly bigint[];
  readonly fcsr: number;
  readonly data: Uint8Array;
  /** The block trapped: the Linux signal QEMU user mode raises for it, and the faulting pc. */
  readonly trap: { readonly signal: number; readonly pc: bigint } | null;
}

/** Linux signal numbers of the traps, as QEMU user mode raises them. */
export const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGSEGV = 11;

/**
 * The signal QEMU's linux-user raises for a RISC-V exception cause (linux-user/riscv/cpu_loop.c:
 * illegal instruction → SIGILL, breakpoint → SIGTRAP; memory faults through record_sigsegv/sigbus).
 */
export function signalOfCause(cause: bigint): number {
  switch (cause) {
    case 2n: return SIGILL;
    case 3n: return SIGTRAP;
    case 0n: case 4n: case 6n: return SIGBUS;
    default: return SIGSEGV;
  }
}

/** Size of a block in bytes. */
export function codeSize(code: readonly Insn[]): number {
  return code.reduce((n, i) => n + i.size, 0);
}

/** The block's bytes, little endian. */
export function codeBytes(code: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(codeSize(code));
  let o = 0;
  for (const i of code) {
    for (let k = 0; k < i.size; k++) out[o++] = (i.bits >>> (8 * k)) & 0xff;
  }
  return out;
}

/** Encodes a case as the runner's input record. */
export function encodeCase(c: DiffCase, out = new Uint8Array(IN_RECORD), at = 0): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset + at, IN_RECORD);
  for (let i = 0; i < 32; i++) v.setBigUint64(8 * i, BigInt.asUintN(64, i === 0 ? 0n : c.x[i] ?? 0n), true);
  for (let i = 0; i < 32; i++) v.setBigUint64(256 + 8 * i, BigInt.asUintN(64, c.f[i] ?? 0n), true);
  v.setBigUint64(512, BigInt(c.fcsr >>> 0), true);
  const code = codeBytes(c.code);
  if (code.length > CODE_MAX) throw new RangeError(`difftest: code block of ${code.length} bytes exceeds ${CODE_MAX}`);
  v.setBigUint64(520, BigInt(code.length), true);
  out.set(c.data.subarray(0, DATA_SIZE), at + 528);
  out.set(code, at + 528 + DATA_SIZE);
  return out;
}

/** Decodes one output record of the runner. */
export function decodeState(buf: Uint8Array, at = 0): DiffState {
  const v = new DataView(buf.buffer, buf.byteOffset + at, OUT_RECORD);
  const x: bigint[] = [], f: bigint[] = [];
  for (let i = 0; i < 32; i++) x.push(v.getBigUint64(8 * i, true));
  for (let i = 0; i < 32; i++) f.push(v.getBigUint64(256 + 8 * i, true));
  const fcsr = Number(v.getBigUint64(512, true));
  const signal = Number(v.getBigUint64(520, true));
  const trap = signal === 0 ? null : { signal, pc: v.getBigUint64(528, true) };
  const data = buf.slice(at + 536, at + 536 + DATA_SIZE);
  return { x, f, fcsr, data, trap };
}
