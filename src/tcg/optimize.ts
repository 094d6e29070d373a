/**
 * The IR optimizer: one forward pass as QEMU tcg/optimize.c, then the liveness pass (liveness.ts).
 *
 * The forward pass does:
 * - copy propagation: temps that hold the same value form a class; inputs are replaced by the best
 *   member (a constant, else a global, else the oldest temp). Globals leave their class when a helper
 *   may write them or an env store overlaps them;
 * - constant folding of every pure op (with the interpreter's semantics, {@link evalPureOp});
 * - algebraic simplification (x+0, x-0, x&-1, x&0, x|0, x|-1, x^0, x*0, x*1, shifts/rotates by 0,
 *   x-x, x^x, x&x, x|x, setcond/movcond/brcond with equal or constant operands, constants moved to the
 *   second operand of commutative ops, `sub x,$c` → `add x,$-c`);
 * - known bits: for each temp the bits that may be 1 (`z`, as QEMU's z_mask) and how many low bits
 *   its value is the sign extension of (`s`), which removes redundant ext8u/ext32s…, masks and ops
 *   whose result is known to be 0;
 * - branch folding: a brcond with a known outcome becomes `br` or disappears; code after br/exit is
 *   unreachable until the next used label and is removed (insn_start markers are kept so that
 *   instruction indexes do not change); a label no branch refers to any more is removed, and then
 *   the knowledge flows through it.
 * All knowledge is dropped at a used label (as QEMU does at the start of an extended basic block); a
 * brcond's fall-through keeps it.
 */
import type { IrFunction } from './context.js';
import {
  CALL_NO_READ_GLOBALS, CALL_NO_RETURN, CALL_NO_WRITE_GLOBALS, Cond, MO_SIGN, MO_SIZE, swapCond,
  type Op, type Opcode, type TcgType, type Temp,
} from './ir.js';
import { evalCond, evalPureOp, isPureOpcode, maskOf, sx } from './interp.js';
import { liveness } from './liveness.js';

const M32 = 0xffffffffn;

function bitsOf(t: TcgType): 32 | 64 {
  return t === 'i32' ? 32 : 64;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Smallest n such that v (zero-extended, of width w) is the sign extension of its low n bits. */
function signWidth(v: bigint, w: number): number {
  const s = sx(v, w);
  const n = s < 0n ? bitLength(~s) : bitLength(s);
  return n + 1;
}

/** Known-bits of a value whose low n bits have mask z: after sign-extending from n bits. */
function sextZ(z: bigint, n: number, m: bigint): bigint {
  const low = maskOf(n);
  return (z >> BigInt(n - 1)) & 1n ? (z & low) | (m & ~low) : z & low;
}

const COMMUTATIVE = new Set(['add', 'mul', 'and', 'or', 'xor', 'eqv', 'mulu2', 'muls2']);

function baseOf(opc: Opcode): string {
  return opc.slice(0, opc.lastIndexOf('_'));
}

/** Runs the forward pass only (no liveness). Returns a new function; `fn` is not modified. */
export function optimizeForward(fn: IrFunction): IrFunction {
  const temps = [...fn.temps];
  const consts = new Map<string, Temp>();
  for (const t of temps) if (t.kind === 'const') consts.set(`${t.type}:${t.value}`, t);
  const constant = (type: TcgType, v: bigint): Temp => {
    const value = v & maskOf(bitsOf(type));
    const key = `${type}:${value}`;
    let t = consts.get(key);
    if (!t) {
      t = { id: temps.length, type, kind: 'const', value, offset: -1, name: '' };
      temps.push(t);
      consts.set(key, t);
    }
    return t;
  };

  // ---- per-temp knowledge (indexed by temp id; constants are known by their kind) --------------------
  const n0 = temps.length;
  const cls: (Set<Temp> | null)[] = new Array<Set<Temp> | null>(n0).fill(null);
  const vals: (bigint | undefined)[] = new Array<bigint | undefined>(n0);
  const zmask: (bigint | undefined)[] = new Array<bigint | undefined>(n0);
  const swidth: (number | undefined)[] = new Array<number | undefined>(n0);
  const globals = temps.filter((t) => t.kind === 'global');

  const reset = (t: Temp): void => {
    const c = cls[t.id];
    if (c) {
      c.delete(t);
      if (c.size === 1) for (const u of c) cls[u.id] = null;
      cls[t.id] = null;
    }
    vals[t.id] = undefined;
    zmask[t.id] = undefined;
    swidth[t.id] = undefined;
  };
  const resetAll = (): void => {
    cls.fill(null);
    vals.fill(undefined);
    zmask.fill(undefined);
    swidth.fill(undefined);
  };
  const resetGlobals = (): void => { for (const g of globals) reset(g); };

  /** The known value of t, if any. */
  const known = (t: Temp): bigint | undefined => {
    return t.kind === 'const' ? t.value : vals[t.id];
  };
  const zOf = (t: Temp): bigint => (t.kind === 'const' ? t.value : zmask[t.id] ?? maskOf(bitsOf(t.type)));
  const sOf = (t: Temp): number => {
    const w = bitsOf(t.type);
    if (t.kind === 'const') return signWidth(t.value, w);
    const z = zOf(t);
    const fromZ = (z >> BigInt(w - 1)) & 1n ? w : bitLength(z) + 1;
    return Math.min(swidth[t.id] ?? w, fromZ, w);
  };
  /** Best representative of t's copy class. */
  const best = (t: Temp): Temp => {
    if (t.kind === 'const') return t;
    const k = known(t);
    if (k !== undefined) return constant(t.type, k);
    const c = cls[t.id];
    if (!c) return t;
    let b = t;
    for (const u of c) {
      if (u.kind === 'const') return u;
      if ((u.kind === 'global' && b.kind !== 'global') || (u.kind === b.kind && u.id < b.id)) b = u;
    }
    return b;
  };
  const sameValue = (a: Temp, b: Temp): boolean => {
    if (a === b) return true;
    const ka = known(a), kb = known(b);
    if (ka !== undefined && kb !== undefined) return ka === kb;
    const c = cls[a.id];
    return c !== null && c !== undefined && c.has(b);
  };
  /** d becomes a copy of s. */
  const copy = (d: Temp, s: Temp): void => {
    reset(d);
    if (s.kind === 'const') {
      vals[d.id] = s.value;
      zmask[d.id] = s.value;
      swidth[d.id] = signWidth(s.value, bitsOf(s.type));
      return;
    }
    let c = cls[s.id];
    if (!c) { c = new Set([s]); cls[s.id] = c; }
    c.add(d);
    cls[d.id] = c;
    vals[d.id] = vals[s.id];
    zmask[d.id] = zmask[s.id];
    swidth[d.id] = swidth[s.id];
  };
  /** d gets a fresh value with the given known bits. */
  const define = (d: Temp, z: bigint | undefined, s: number | undefined): void => {
    reset(d);
    const m = maskOf(bitsOf(d.type));
    zmask[d.id] = z === undefined ? undefined : z & m;
    vals[d.id] = z !== undefined && (z & m) === 0n ? 0n : undefined;
    swidth[d.id] = s;
  };

  // ---- labels -----------------------------------------------------------------------------------------
  const refs = new Int32Array(fn.nbLabels);
  for (const op of fn.ops) if (op.label && op.opc !== 'set_label') refs[op.label.id]!++;

  const out: Op[] = [];
  let reachable = true;
  const emitMov = (d: Temp, s: Temp): void => {
    if (sameValue(d, s)) return;
    out.push({ opc: `mov_${d.type}` as Opcode, o: [d], i: [s], c: [] });
    copy(d, s);
  };
  const emitConst = (d: Temp, v: bigint): void => { emitMov(d, constant(d.type, v)); };

  for (const orig of fn.ops) {
    const op: Op = { opc: orig.opc, o: [...orig.o], i: orig.i.map(best), c: [...orig.c] };
    if (orig.label) op.label = orig.label;
    if (orig.helper) op.helper = orig.helper;

    if (!reachable) {
      if (op.opc === 'set_label' && refs[op.label!.id]! > 0) {
        reachable = true;
        resetAll();
        out.push(op);
      } else if (op.opc === 'insn_start') {
        out.push(op);
      } else if (op.label && op.opc !== 'set_label') {
        refs[op.label.id]!--;
      }
      continue;
    }

    const opc = op.opc;
    switch (opc) {
      case 'set_label':
        if (refs[op.label!.id]! > 0) { resetAll(); out.push(op); }
        continue;
      case 'br':
        out.push(op);
        reachable = false;
        continue;
      case 'exit_tb': case 'lookup_and_goto_ptr':
        out.push(op);
        reachable = false;
        continue;
      case 'insn_start': case 'goto_tb': case 'mb':
        out.push(op);
        continue;
      case 'nop':
        continue;
      case 'discard':
        reset(op.o[0]!);
        out.push(op);
        continue;
      case 'brcond_i32': case 'brcond_i64': {
        const r = decideCond(op.c[0] as Cond, op.i[0]!, op.i[1]!, bitsOf(op.i[0]!.type));
        if (r === true) {
          out.push({ opc: 'br', o: [], i: [], c: [], label: op.label! });
          reachable = false;
        } else if (r === false) {
          refs[op.label!.id]!--;
        } else {
          if (op.i[0]!.kind === 'const' && op.i[1]!.kind !== 'const') {
            op.i.reverse();
            op.c[0] = swapCond(op.c[0] as Cond);
          }
          out.push(op);
        }
        continue;
      }
      case 'ld_i32': case 'ld_i64': {
        const memop = op.c[1]!, size = memop & MO_SIZE, w = bitsOf(op.o[0]!.type);
        const full = (8 << size) >= w;
        define(op.o[0]!, !full && !(memop & MO_SIGN) ? maskOf(8 << size) : undefined,
          full ? undefined : (memop & MO_SIGN) ? 8 << size : (8 << size) + 1);
        out.push(op);
        continue;
      }
      case 'st_i32': case 'st_i64': {
        const ofs = op.c[0]!, end = ofs + (1 << (op.c[1]! & MO_SIZE));
        for (const g of globals) {
          if (g.offset < end && ofs < g.offset + (g.type === 'i32' ? 4 : 8)) reset(g);
        }
        out.push(op);
        continue;
      }
      case 'qemu_ld_i32': case 'qemu_ld_i64': {
        const memop = op.c[0]!, size = memop & MO_SIZE, w = bitsOf(op.o[0]!.type);
        const full = (8 << size) >= w;
        define(op.o[0]!, !full && !(memop & MO_SIGN) ? maskOf(8 << size) : undefined,
          full ? undefined : (memop & MO_SIGN) ? 8 << size : (8 << size) + 1);
        out.push(op);
        continue;
      }
      case 'qemu_st_i32': case 'qemu_st_i64':
        out.push(op);
        continue;
      case 'call': {
        const flags = op.helper?.flags ?? 0;
        if (!(flags & (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS))) resetGlobals();
        for (const o of op.o) define(o, undefined, undefined);
        out.push(op);
        if (flags & CALL_NO_RETURN) reachable = false;
        continue;
      }
      default:
        break;
    }

    if (!isPureOpcode(opc)) {
      // Unknown side-effecting op: keep it and forget everything it writes.
      for (const o of op.o) define(o, undefined, undefined);
      out.push(op);
      continue;
    }
    foldPure(op);
  }

  function decideCond(cond: Cond, a: Temp, b: Temp, w: 32 | 64): boolean | undefined {
    if (cond === Cond.ALWAYS) return true;
    if (cond === Cond.NEVER) return false;
    const ka = known(a), kb = known(b);
    if (ka !== undefined && kb !== undefined) return evalCond(cond, ka, kb, w);
    if (sameValue(a, b)) return evalCond(cond, 0n, 0n, w);
    if (kb === 0n) {
      if (cond === Cond.LTU) return false;
      if (cond === Cond.GEU) return true;
    }
    return undefined;
  }

  function foldPure(op: Op): void {
    const opc = op.opc;
    const base = baseOf(opc);
    const d = op.o[0]!;
    const w = bitsOf(d.type);
    const m = maskOf(w);
    const W = BigInt(w);

    // Constants second in commutative ops (QEMU swap_commutative).
    if (COMMUTATIVE.has(base) && op.i[0]!.kind === 'const' && op.i[1]!.kind !== 'const') op.i.reverse();
    if ((base === 'setcond' || base === 'movcond') && op.i[0]!.kind === 'const' && op.i[1]!.kind !== 'const') {
      op.i = [op.i[1]!, op.i[0]!, ...op.i.slice(2)];
      op.c[0] = swapCond(op.c[0] as Cond);
    }
    const a = op.i[0], b = op.i[1];
    const ka = a ? known(a) : undefined;
    const kb = b ? known(b) : undefined;

    // Full constant folding.
    if (op.i.every((t) => known(t) !== undefined)) {
      const r = evalPureOp(opc, op.i.map((t) => known(t)!), op.c);
      op.o.forEach((o, k) => emitConst(o, r[k]!));
      return;
    }

    const mov = (s: Temp): void => { emitMov(d, s); };
    const setc = (v: bigint): void => { emitConst(d, v); };

    switch (base) {
      case 'mov': mov(a!); return;
      case 'add': case 'or': case 'xor':
        if (kb === 0n) { mov(a!); return; }
        if (base === 'or' && kb === m) { setc(m); return; }
        if (base === 'or' && sameValue(a!, b!)) { mov(a!); return; }
        if (base === 'xor' && sameValue(a!, b!)) { setc(0n); return; }
        if (base === 'xor' && kb === m) { emitOp(`not_${d.type}`, [d], [a!]); return; }
        break;
      case 'sub':
        if (kb === 0n) { mov(a!); return; }
        if (sameValue(a!, b!)) { setc(0n); return; }
        if (kb !== undefined) { op.opc = `add_${d.type}` as Opcode; op.i[1] = constant(d.type, -kb); }
        break;
      case 'and':
        if (kb === 0n) { setc(0n); return; }
        if (kb === m || sameValue(a!, b!)) { mov(a!); return; }
        if (kb !== undefined && (zOf(a!) & ~kb & m) === 0n) { mov(a!); return; }
        break;
      case 'andc':
        if (kb === 0n) { mov(a!); return; }
        if (kb === m || sameValue(a!, b!)) { setc(0n); return; }
        break;
      case 'orc':
        if (kb === m) { mov(a!); return; }
        if (kb === 0n || sameValue(a!, b!)) { setc(m); return; }
        break;
      case 'eqv':
        if (kb === m) { mov(a!); return; }
        if (sameValue(a!, b!)) { setc(m); return; }
        break;
      case 'mul':
        if (kb === 0n) { setc(0n); return; }
        if (kb === 1n) { mov(a!); return; }
        break;
      case 'div': case 'divu':
        if (kb === 1n) { mov(a!); return; }
        break;
      case 'rem': case 'remu':
        if (kb === 1n) { setc(0n); return; }
        break;
      case 'shl': case 'shr': case 'sar': case 'rotl': case 'rotr':
        if (kb !== undefined && kb % W === 0n) { mov(a!); return; }
        if (ka === 0n) { setc(0n); return; }
        if (ka === m && base !== 'shl' && base !== 'shr') { setc(m); return; }
        break;
      case 'ext8s': if (sOf(a!) <= 8) { mov(a!); return; } break;
      case 'ext16s': if (sOf(a!) <= 16) { mov(a!); return; } break;
      case 'ext32s': if (sOf(a!) <= 32) { mov(a!); return; } break;
      case 'ext8u': if ((zOf(a!) & ~0xffn) === 0n) { mov(a!); return; } break;
      case 'ext16u': if ((zOf(a!) & ~0xffffn) === 0n) { mov(a!); return; } break;
      case 'ext32u': if ((zOf(a!) & ~M32) === 0n) { mov(a!); return; } break;
      case 'extract':
        if (op.c[0] === 0 && op.c[1] === w) { mov(a!); return; }
        if (op.c[0] === 0 && (zOf(a!) & ~maskOf(op.c[1]!)) === 0n) { mov(a!); return; }
        break;
      case 'sextract':
        if (op.c[0] === 0 && sOf(a!) <= op.c[1]!) { mov(a!); return; }
        break;
      case 'deposit':
        if (op.c[0] === 0 && op.c[1] === w) { mov(b!); return; }
        break;
      case 'setcond': {
        const r = decideCond(op.c[0] as Cond, a!, b!, w);
        if (r !== undefined) { setc(r ? 1n : 0n); return; }
        break;
      }
      case 'movcond': {
        const r = decideCond(op.c[0] as Cond, a!, b!, w);
        if (r !== undefined) { mov(r ? op.i[2]! : op.i[3]!); return; }
        if (sameValue(op.i[2]!, op.i[3]!)) { mov(op.i[2]!); return; }
        break;
      }
      default:
        break;
    }

    // Keep the op; compute what is known about its outputs.
    const z = zOut(op);
    if (op.o.length === 1 && z === 0n) { setc(0n); return; }
    out.push(op);
    if (op.o.length === 1) define(d, z, sOut(op));
    else for (const o of op.o) define(o, undefined, undefined);
  }

  function emitOp(opc: string, o: Temp[], i: Temp[], c: number[] = []): void {
    const op: Op = { opc: opc as Opcode, o, i, c };
    out.push(op);
    for (const t of o) define(t, zOut(op), sOut(op));
  }

  /** Bits of the output that may be 1. */
  function zOut(op: Op): bigint | undefined {
    const d = op.o[0]!;
    const w = bitsOf(d.type), m = maskOf(w);
    const [a, b] = op.i;
    const za = a ? zOf(a) : m, zb = b ? zOf(b) : m;
    const kb = b ? known(b) : undefined;
    switch (op.opc) {
      case 'extu_i32_i64': return za;
      case 'ext_i32_i64': return sextZ(za, 32, m);
      case 'extrl_i64_i32': return za & M32;
      case 'extrh_i64_i32': return (za >> 32n) & M32;
      default: break;
    }
    switch (baseOf(op.opc)) {
      case 'mov': return za;
      case 'and': return za & zb;
      case 'or': case 'xor': return za | zb;
      case 'andc': return za;
      case 'ext8u': return za & 0xffn;
      case 'ext16u': return za & 0xffffn;
      case 'ext32u': return za & M32;
      case 'ext8s': return sextZ(za, 8, m);
      case 'ext16s': return sextZ(za, 16, m);
      case 'ext32s': return sextZ(za, 32, m);
      case 'shl': return kb !== undefined ? (za << (kb % BigInt(w))) & m : undefined;
      case 'shr': return kb !== undefined ? za >> (kb % BigInt(w)) : undefined;
      case 'sar':
        return kb !== undefined && !((za >> BigInt(w - 1)) & 1n) ? za >> (kb % BigInt(w)) : undefined;
      case 'extract': return (za >> BigInt(op.c[0]!)) & maskOf(op.c[1]!);
      case 'sextract': return sextZ((za >> BigInt(op.c[0]!)) & maskOf(op.c[1]!), op.c[1]!, m);
      case 'deposit': {
        const fm = maskOf(op.c[1]!) << BigInt(op.c[0]!);
        return ((za & ~fm) | ((zb << BigInt(op.c[0]!)) & fm)) & m;
      }
      case 'setcond': return 1n;
      case 'clz': case 'ctz': return 0x7fn | zb;
      case 'ctpop': return 0x7fn;
      case 'movcond': return zOf(op.i[2]!) | zOf(op.i[3]!);
      case 'bswap16': return (op.c[0]! & 4) ? undefined : 0xffffn;
      case 'bswap32': return (op.c[0]! & 4) || w === 32 ? undefined : M32;
      default: return undefined;
    }
  }

  /** Sign-extension width of the output, when an op guarantees one. */
  function sOut(op: Op): number | undefined {
    const [a] = op.i;
    switch (baseOf(op.opc)) {
      case 'ext8s': return 8;
      case 'ext16s': return 16;
      case 'ext32s': return 32;
      case 'sextract': return op.c[1];
      case 'setcond': return 2;
      case 'mov': case 'not': return a ? sOf(a) : undefined;
      case 'and': case 'or': case 'xor': return Math.max(sOf(op.i[0]!), sOf(op.i[1]!));
      case 'movcond': return Math.max(sOf(op.i[2]!), sOf(op.i[3]!));
      default: break;
    }
    if (op.opc === 'ext_i32_i64') return a ? Math.min(sOf(a), 32) : 32;
    return undefined;
  }

  return { ...fn, ops: out, temps };
}

/** The full pipeline: the forward pass, then liveness (dead code and dead global stores). */
export function optimizeIr(fn: IrFunction): IrFunction {
  return liveness(optimizeForward(fn));
}
