/**
 * The reference interpreter of the TCG IR (the oracle every optimizer pass and backend is checked
 * against), in the spirit of QEMU tcg/tci.c but running the IR directly with BigInt values.
 *
 * It is written to be obviously correct, not fast: every value is a BigInt zero-extended to its
 * type's width, globals are read from and written to `env` at every use.
 *
 * Op semantics follow QEMU docs/devel/tcg-ops.rst. Where QEMU leaves a result undefined, this file
 * defines it (and every backend must match), but frontends must not rely on these choices:
 * - shift and rotate counts are taken modulo the width (count & 31 or count & 63);
 * - division by zero follows RISC-V: `divu x/0` and `div x/0` give all ones, `remu x/0` and
 *   `rem x/0` give x; signed overflow `MIN / -1` gives MIN and `MIN % -1` gives 0;
 * - `bswap16`/`bswap32` (below the type width) ignore the input's high bits and zero the output's
 *   high bits, unless flag 4 (QEMU TCG_BSWAP_OS) asks for a sign-extended result;
 * - `discard` does nothing (reading a discarded temp is a frontend bug);
 * - falling off the end of the op list is a plain exit (value 0); `lookup_and_goto_ptr` returns 0
 *   (the loop then looks up the next TB from the pc in env); `goto_tb` is a no-op.
 */
import type { IrFunction } from './context.js';
import {
  Cond, EXIT_LOOKUP, MO_64, MO_SIGN, MO_SIZE, type HelperInfo, type Op, type Opcode, type TcgType, type Temp,
} from './ir.js';
import type { TbRuntime } from './backend/backend.js';

const M32 = 0xffffffffn;
const M64 = 0xffffffffffffffffn;

/** Raised for IR the interpreter cannot execute (a frontend or optimizer bug, never guest behaviour). */
export class TcgIrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TcgIrError';
  }
}

/** Width in bits of a TCG type. */
export function typeBits(t: TcgType): 32 | 64 {
  return t === 'i32' ? 32 : 64;
}

/** All-ones mask of a width. */
export function maskOf(bits: number): bigint {
  return bits === 32 ? M32 : bits === 64 ? M64 : (1n << BigInt(bits)) - 1n;
}

/** Sign-extends the low `bits` bits of v into a signed BigInt. */
export function sx(v: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, v);
}

/** Evaluates a TCG condition on two values of `bits` width (zero-extended BigInts). */
export function evalCond(cond: Cond, a: bigint, b: bigint, bits: 32 | 64): boolean {
  switch (cond) {
    case Cond.NEVER: return false;
    case Cond.ALWAYS: return true;
    case Cond.EQ: return a === b;
    case Cond.NE: return a !== b;
    case Cond.LT: return sx(a, bits) < sx(b, bits);
    case Cond.GE: return sx(a, bits) >= sx(b, bits);
    case Cond.LE: return sx(a, bits) <= sx(b, bits);
    case Cond.GT: return sx(a, bits) > sx(b, bits);
    case Cond.LTU: return a < b;
    case Cond.GEU: return a >= b;
    case Cond.LEU: return a <= b;
    case Cond.GTU: return a > b;
    default: throw new TcgIrError(`bad TCG condition ${cond as number}`);
  }
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function ctz(v: bigint, bits: number): number {
  if (v === 0n) return bits;
  let n = 0;
  while ((v & 1n) === 0n) { v >>= 1n; n++; }
  return n;
}

function popcount(v: bigint): number {
  let n = 0;
  while (v !== 0n) { n += Number(v & 1n); v >>= 1n; }
  return n;
}

function bswap(v: bigint, bytes: number): bigint {
  let r = 0n;
  for (let k = 0; k < bytes; k++) r = (r << 8n) | ((v >> BigInt(8 * k)) & 0xffn);
  return r;
}

/** Ops whose outputs depend only on their inputs and constant arguments (foldable, removable). */
export function isPureOpcode(opc: Opcode): boolean {
  switch (opc) {
    case 'ld_i32': case 'ld_i64': case 'st_i32': case 'st_i64':
    case 'qemu_ld_i32': case 'qemu_ld_i64': case 'qemu_st_i32': case 'qemu_st_i64':
    case 'call': case 'goto_tb': case 'exit_tb': case 'lookup_and_goto_ptr':
    case 'brcond_i32': case 'brcond_i64': case 'br': case 'set_label':
    case 'insn_start': case 'discard': case 'mb': case 'nop':
      return false;
    default:
      return true;
  }
}

/**
 * Computes the outputs of a pure op (see {@link isPureOpcode}) from its input values.
 * Inputs and outputs are BigInts zero-extended to their temp's width. This is the single
 * definition of op semantics used by the interpreter and by constant folding.
 */
export function evalPureOp(opc: Opcode, x: readonly bigint[], c: readonly number[]): bigint[] {
  const w: 32 | 64 = opc.endsWith('_i32') ? 32 : 64;
  const m = w === 32 ? M32 : M64;
  const W = BigInt(w);
  const a = x[0] ?? 0n;
  const b = x[1] ?? 0n;
  const base = opc.slice(0, opc.lastIndexOf('_'));
  switch (opc) {
    case 'ext_i32_i64': return [sx(a, 32) & M64];
    case 'extu_i32_i64': return [a & M32];
    case 'extrl_i64_i32': return [a & M32];
    case 'extrh_i64_i32': return [(a >> 32n) & M32];
    default: break;
  }
  switch (base) {
    case 'mov': return [a];
    case 'add': return [(a + b) & m];
    case 'sub': return [(a - b) & m];
    case 'neg': return [-a & m];
    case 'mul': return [(a * b) & m];
    case 'mulu2': { const p = a * b; return [p & m, (p >> W) & m]; }
    case 'muls2': { const p = sx(a, w) * sx(b, w); return [p & m, (p >> W) & m]; }
    case 'mulsu2': { const p = sx(a, w) * b; return [p & m, (p >> W) & m]; }
    case 'div': {
      if (b === 0n) return [m];
      const sa = sx(a, w), sb = sx(b, w);
      if (sb === -1n) return [-sa & m]; // MIN / -1 wraps to MIN
      return [(sa / sb) & m];
    }
    case 'divu': return [b === 0n ? m : a / b];
    case 'rem': {
      if (b === 0n) return [a];
      const sa = sx(a, w), sb = sx(b, w);
      if (sb === -1n) return [0n];
      return [(sa % sb) & m];
    }
    case 'remu': return [b === 0n ? a : a % b];
    case 'and': return [a & b];
    case 'or': return [a | b];
    case 'xor': return [a ^ b];
    case 'not': return [~a & m];
    case 'andc': return [a & ~b & m];
    case 'orc': return [(a | ~b) & m];
    case 'eqv': return [~(a ^ b) & m];
    case 'shl': return [(a << (b % W)) & m];
    case 'shr': return [a >> (b % W)];
    case 'sar': return [(sx(a, w) >> (b % W)) & m];
    case 'rotl': { const s = b % W; return [((a << s) | (a >> ((W - s) % W))) & m]; }
    case 'rotr': { const s = b % W; return [((a >> s) | (a << ((W - s) % W))) & m]; }
    case 'ext8s': return [sx(a, 8) & m];
    case 'ext8u': return [a & 0xffn];
    case 'ext16s': return [sx(a, 16) & m];
    case 'ext16u': return [a & 0xffffn];
    case 'ext32s': return [sx(a, 32) & m];
    case 'ext32u': return [a & M32];
    case 'extract': {
      const [ofs = 0, len = 1] = c;
      return [(a >> BigInt(ofs)) & maskOf(len)];
    }
    case 'sextract': {
      const [ofs = 0, len = 1] = c;
      return [sx(a >> BigInt(ofs), len) & m];
    }
    case 'deposit': {
      const [ofs = 0, len = 1] = c;
      const fm = maskOf(len) << BigInt(ofs);
      return [((a & ~fm) | ((b << BigInt(ofs)) & fm)) & m];
    }
    case 'bswap16': {
      const r = bswap(a & 0xffffn, 2);
      return [((c[0] ?? 0) & 4) ? sx(r, 16) & m : r];
    }
    case 'bswap32': {
      const r = bswap(a & M32, 4);
      return [((c[0] ?? 0) & 4) ? sx(r, 32) & m : r];
    }
    case 'bswap64': return [bswap(a, 8)];
    case 'clz': return [a === 0n ? b : BigInt(w - bitLength(a))];
    case 'ctz': return [a === 0n ? b : BigInt(ctz(a, w))];
    case 'ctpop': return [BigInt(popcount(a))];
    case 'setcond': return [evalCond(c[0] as Cond, a, b, w) ? 1n : 0n];
    case 'movcond': return [evalCond(c[0] as Cond, a, b, w) ? (x[2] ?? 0n) : (x[3] ?? 0n)];
    default:
      throw new TcgIrError(`op ${opc} is not a pure op`);
  }
}

/** Reads `size` bytes (1 << (memop & MO_SIZE)) of env at `offset`, extended per memop to `bits`. */
function envLoad(view: DataView, offset: number, memop: number, bits: 32 | 64): bigint {
  const size = memop & MO_SIZE;
  let v: bigint;
  switch (size) {
    case 0: v = BigInt(view.getUint8(offset)); break;
    case 1: v = BigInt(view.getUint16(offset, true)); break;
    case 2: v = BigInt(view.getUint32(offset, true)); break;
    default: v = view.getBigUint64(offset, true); break;
  }
  if (memop & MO_SIGN) v = sx(v, 8 << size);
  return v & maskOf(bits);
}

function envStore(view: DataView, offset: number, memop: number, v: bigint): void {
  switch (memop & MO_SIZE) {
    case 0: view.setUint8(offset, Number(v & 0xffn)); break;
    case 1: view.setUint16(offset, Number(v & 0xffffn), true); break;
    case 2: view.setUint32(offset, Number(v & M32), true); break;
    default: view.setBigUint64(offset, v & M64, true); break;
  }
}

/** Converts a helper argument to the documented calling convention. */
export function helperArg(type: TcgType, v: bigint): number | bigint {
  return type === 'i32' ? Number(sx(v, 32)) : v;
}

/** Normalizes a helper result to a zero-extended BigInt of `type`. */
export function helperRet(type: TcgType, r: unknown): bigint {
  if (type === 'i32') return BigInt((r as number) | 0) & M32;
  return BigInt.asUintN(64, r as bigint);
}

/** Calls `helper` with BigInt argument values; returns the normalized result (0n if none). */
export function callHelper(helper: HelperInfo, cpu: unknown, args: readonly bigint[]): bigint {
  const conv = args.map((v, k) => helperArg(helper.args[k] ?? 'i64', v));
  const r: unknown = helper.fn(cpu, ...conv);
  return helper.ret ? helperRet(helper.ret, r) : 0n;
}

/** Maps each label id to the index of its `set_label` op. */
export function labelPositions(fn: IrFunction): Int32Array {
  const pos = new Int32Array(fn.nbLabels).fill(-1);
  fn.ops.forEach((op, k) => {
    if (op.opc === 'set_label' && op.label) pos[op.label.id] = k;
  });
  return pos;
}

/**
 * Runs `fn` once against `rt` and returns the `exit_tb` value. Globals are read from and written to
 * `rt.env`; helpers are called with `rt.cpu`. Before every op that may throw (qemu_ld/st, call),
 * `rt.curInsn` is set to the index of the `insn_start` that precedes the op in the op list.
 */
export function interpret(fn: IrFunction, rt: TbRuntime): number {
  const view = rt.envView;
  const vals: bigint[] = new Array<bigint>(fn.temps.length).fill(0n);
  const labels = labelPositions(fn);
  const wide = fn.addrType === 'i64';

  const get = (t: Temp): bigint => {
    switch (t.kind) {
      case 'const': return t.value;
      case 'global': return t.type === 'i32'
        ? BigInt(view.getUint32(t.offset, true))
        : view.getBigUint64(t.offset, true);
      default: return vals[t.id] ?? 0n;
    }
  };
  const set = (t: Temp, v: bigint): void => {
    if (t.kind === 'global') {
      if (t.type === 'i32') view.setUint32(t.offset, Number(v & M32), true);
      else view.setBigUint64(t.offset, v & M64, true);
    } else if (t.kind === 'temp') {
      vals[t.id] = v;
    } else {
      throw new TcgIrError(`write to constant temp #${t.id}`);
    }
  };
  const jump = (op: Op): number => {
    const p = op.label ? labels[op.label.id] ?? -1 : -1;
    if (p < 0) throw new TcgIrError(`branch to unset label ${op.label?.id ?? '?'}`);
    return p;
  };

  // The instruction an op belongs to is the last insn_start before it in the op list, whatever path
  // led there (as QEMU finds it from the host pc in cpu_restore_state).
  const ops = fn.ops;
  const insnAt = new Int32Array(ops.length);
  let insn = -1;
  ops.forEach((op, k) => {
    if (op.opc === 'insn_start') insn++;
    insnAt[k] = insn;
  });
  let pc = 0;
  while (pc < ops.length) {
    const op = ops[pc++]!;
    switch (op.opc) {
      case 'qemu_ld_i32': case 'qemu_ld_i64': case 'qemu_st_i32': case 'qemu_st_i64': case 'call':
        rt.curInsn = insnAt[pc - 1]!;
        break;
      default: break;
    }
    switch (op.opc) {
      case 'insn_start': case 'nop': case 'mb': case 'discard': case 'goto_tb': case 'set_label': break;
      case 'br': pc = jump(op); break;
      case 'brcond_i32': case 'brcond_i64':
        if (evalCond(op.c[0] as Cond, get(op.i[0]!), get(op.i[1]!), op.opc === 'brcond_i32' ? 32 : 64)) pc = jump(op);
        break;
      case 'exit_tb': return op.c[0] ?? 0;
      case 'lookup_and_goto_ptr': return EXIT_LOOKUP;
      case 'ld_i32': case 'ld_i64':
        set(op.o[0]!, envLoad(view, op.c[0]!, op.c[1]!, op.opc === 'ld_i32' ? 32 : 64));
        break;
      case 'st_i32': case 'st_i64':
        envStore(view, op.c[0]!, op.c[1]!, get(op.i[0]!));
        break;
      case 'qemu_ld_i32': case 'qemu_ld_i64': {
        const addr = get(op.i[0]!);
        const memop = op.c[0]!;
        const lo = rt.load(Number(addr & M32) | 0, wide ? Number(addr >> 32n) | 0 : 0, memop, op.c[1]!);
        let v: bigint;
        if (op.opc === 'qemu_ld_i32') v = BigInt(lo >>> 0);
        else if ((memop & MO_SIZE) === MO_64) v = (BigInt(rt.loadHi >>> 0) << 32n) | BigInt(lo >>> 0);
        else if (memop & MO_SIGN) v = BigInt(lo | 0) & M64;
        else v = BigInt(lo >>> 0);
        set(op.o[0]!, v);
        break;
      }
      case 'qemu_st_i32': case 'qemu_st_i64': {
        const v = get(op.i[0]!);
        const addr = get(op.i[1]!);
        rt.store(Number(addr & M32) | 0, wide ? Number(addr >> 32n) | 0 : 0,
          Number(v & M32) | 0, Number((v >> 32n) & M32) | 0, op.c[0]!, op.c[1]!);
        break;
      }
      case 'call': {
        const h = op.helper;
        if (!h) throw new TcgIrError('call op without helper');
        const r = callHelper(h, rt.cpu, op.i.map(get));
        if (op.o[0]) set(op.o[0], r);
        break;
      }
      default: {
        const outs = evalPureOp(op.opc, op.i.map(get), op.c);
        op.o.forEach((t, k) => set(t, outs[k]!));
        break;
      }
    }
  }
  return 0;
}
