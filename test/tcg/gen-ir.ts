/**
 * Random TCG IR programs for property tests: straight-line and forward-branching code over a few
 * i32/i64 globals and temps, using every op (env and guest memory access, helper calls, all
 * conditions, bit fields, byte swaps, bit counts, double-width multiplies, division by zero and
 * MIN/-1). A program never reads a temp that is not written on every path to the read.
 */
import fc from 'fast-check';
import { GlobalSet, TcgContext, type IrFunction } from '../../src/tcg/context.js';
import {
  CALL_NO_READ_GLOBALS, CALL_NO_RETURN, CALL_NO_SIDE_EFFECTS, CALL_NO_WRITE_GLOBALS, Cond,
  MO_ALIGN, MO_BE, MO_SIGN, type HelperInfo, type Label, type Opcode, type TcgType, type Temp,
} from '../../src/tcg/ir.js';
import { ENV_SIZE, FakeFault, MEM_BASE, MEM_SIZE, type FakeCpu } from './fake-rt.js';

/** One random step; the builder interprets the numbers. */
export interface Step {
  k: number;
  a: number;
  b: number;
  c: number;
  d: number;
  v: bigint;
}

export const stepArb: fc.Arbitrary<Step> = fc.record({
  k: fc.nat(),
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  d: fc.nat(),
  v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
});

export const programArb = (maxSteps = 60): fc.Arbitrary<Step[]> => fc.array(stepArb, { minLength: 1, maxLength: maxSteps });

const ALL_CONDS: Cond[] = [
  Cond.NEVER, Cond.ALWAYS, Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LE, Cond.GT,
  Cond.LTU, Cond.GEU, Cond.LEU, Cond.GTU,
];

// ---- helpers --------------------------------------------------------------------------------------

const PURE = CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS | CALL_NO_SIDE_EFFECTS;

export const helperPure64: HelperInfo = {
  name: 'pure64', args: ['i64', 'i64'], ret: 'i64', flags: PURE,
  fn: (_cpu: FakeCpu, a: bigint, b: bigint) => a * 3n + (b ^ 0x55n),
};
export const helperPure32: HelperInfo = {
  name: 'pure32', args: ['i32'], ret: 'i32', flags: PURE,
  fn: (_cpu: FakeCpu, a: number) => Math.imul(a, 7) + 1,
};
/** Reads and writes globals (x2 += 1, w1 ^= 1), logs, and throws when the low byte of a is 0x5a. */
export const helperEffect: HelperInfo = {
  name: 'effect', args: ['i64', 'i32'], ret: 'i64', flags: 0,
  fn: (cpu: FakeCpu, a: bigint, b: number) => {
    cpu.log.push(`effect ${a} ${b} x1=${cpu.view.getBigUint64(0, true)} w1=${cpu.view.getUint32(32, true)}`);
    if ((a & 0xffn) === 0x5an) throw new FakeFault('effect helper');
    cpu.view.setBigUint64(8, cpu.view.getBigUint64(8, true) + 1n, true);
    cpu.view.setUint32(32, cpu.view.getUint32(32, true) ^ 1, true);
    return a ^ BigInt(b);
  },
};
/** Reads globals but does not write them. */
export const helperReader: HelperInfo = {
  name: 'reader', args: ['i32'], flags: CALL_NO_WRITE_GLOBALS,
  fn: (cpu: FakeCpu, a: number) => {
    cpu.log.push(`reader ${a} x3=${cpu.view.getBigUint64(16, true)} x4=${cpu.view.getBigUint64(24, true)} w2=${cpu.view.getUint32(36, true)}`);
  },
};
/** Always raises (CALL_NO_RETURN). */
export const helperRaise: HelperInfo = {
  name: 'raise', args: ['i32'], flags: CALL_NO_RETURN,
  fn: (cpu: FakeCpu, a: number) => {
    cpu.log.push(`raise ${a}`);
    throw new FakeFault('raise');
  },
};

// ---- the builder ----------------------------------------------------------------------------------

const BIN_OPS = ['add', 'sub', 'mul', 'div', 'divu', 'rem', 'remu', 'and', 'or', 'xor', 'andc', 'orc', 'eqv',
  'shl', 'shr', 'sar', 'rotl', 'rotr'] as const;
const UN_OPS_BOTH = ['neg', 'not', 'ext8s', 'ext8u', 'ext16s', 'ext16u', 'ctpop', 'mov'] as const;
const UN_OPS_64 = ['ext32s', 'ext32u', 'bswap64'] as const;

type Kind =
  | 'bin' | 'binc' | 'un' | 'conv' | 'bswap' | 'clzctz' | 'field' | 'setcond' | 'movcond' | 'mul2'
  | 'brcond' | 'br' | 'label' | 'exit' | 'ld' | 'st' | 'qld' | 'qst' | 'call' | 'insn' | 'discard' | 'misc' | 'copy';

const KINDS: Kind[] = [
  'bin', 'bin', 'bin', 'bin', 'binc', 'binc', 'binc', 'binc', 'un', 'un', 'conv', 'conv', 'bswap', 'clzctz',
  'field', 'field', 'setcond', 'movcond', 'mul2', 'brcond', 'brcond', 'brcond', 'br', 'label', 'label', 'label',
  'exit', 'ld', 'st', 'st', 'qld', 'qld', 'qst', 'qst', 'call', 'call', 'call', 'call', 'insn', 'insn', 'insn', 'discard', 'misc', 'copy', 'copy', 'copy', 'copy',
];

const INTERESTING: bigint[] = [0n, 1n, 2n, 0xffffffffffffffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0xffffffff80000000n, 0x8000000000000000n, 0x7fffffffffffffffn, 31n, 32n, 63n, 64n, 0x5an, 0x100000000n];

export interface GenOptions {
  addrType: TcgType;
}

/** The globals every generated program uses: x1..x4 (i64 at 0..31), w1, w2 (i32 at 32, 36). */
export function makeGlobals(): { set: GlobalSet; i64: Temp[]; i32: Temp[] } {
  const set = new GlobalSet();
  const i64 = [set.add('i64', 0, 'x1'), set.add('i64', 8, 'x2'), set.add('i64', 16, 'x3'), set.add('i64', 24, 'x4')];
  const i32 = [set.add('i32', 32, 'w1'), set.add('i32', 36, 'w2')];
  return { set, i64, i32 };
}

/** Builds an IR function from random steps. */
export function buildProgram(steps: readonly Step[], opts: GenOptions): IrFunction {
  const { set, i64: g64, i32: g32 } = makeGlobals();
  const ctx = new TcgContext(set, opts.addrType);
  const t64 = Array.from({ length: 6 }, () => ctx.tempI64());
  const t32 = Array.from({ length: 5 }, () => ctx.tempI32());
  /** Temps written on every path to here; null = this point is unreachable. */
  let defined: Set<Temp> | null = new Set();
  /** Labels branched to but not yet placed, with the temps defined on every branch to them. */
  const pending = new Map<Label, Set<Temp> | null>();
  let pc = 0x80000000n;

  const meet = (a: Set<Temp> | null, b: Set<Temp> | null): Set<Temp> | null => {
    if (a === null) return b === null ? null : new Set(b);
    if (b === null) return new Set(a);
    return new Set([...a].filter((t) => b.has(t)));
  };
  const branchTo = (l: Label): void => {
    pending.set(l, pending.has(l) ? meet(pending.get(l)!, defined) : meet(defined, null));
  };
  const placeLabel = (l: Label): void => {
    defined = meet(defined, pending.get(l) ?? null);
    pending.delete(l);
    ctx.setLabel(l);
  };

  const typeOf = (n: number): TcgType => (n % 2 === 0 ? 'i64' : 'i32');
  const constOf = (type: TcgType, s: Step, n: number): Temp => {
    const v = n % 3 === 0 ? s.v : INTERESTING[n % INTERESTING.length]!;
    return ctx.const(type, v);
  };
  /** An input operand of `type`: a global, a defined temp or a constant. */
  const src = (type: TcgType, s: Step, n: number): Temp => {
    const globals = type === 'i64' ? g64 : g32;
    const temps = (type === 'i64' ? t64 : t32).filter((t) => defined === null || defined.has(t));
    const choice = n % 5;
    if (choice <= 1 && temps.length > 0) return temps[(n >> 3) % temps.length]!;
    if (choice === 2) return constOf(type, s, n >> 3);
    return globals[(n >> 3) % globals.length]!;
  };
  /** An output location of `type`: a temp (then defined) or a global. */
  const dst = (type: TcgType, n: number): Temp => {
    const temps = type === 'i64' ? t64 : t32;
    const globals = type === 'i64' ? g64 : g32;
    return n % 3 === 0 ? globals[(n >> 2) % globals.length]! : temps[(n >> 2) % temps.length]!;
  };
  const def = (t: Temp): void => {
    if (defined !== null && t.kind === 'temp') defined.add(t);
  };

  const emit = (opc: string, o: Temp[], i: Temp[], c: number[] = []): void => {
    ctx.emit(opc as Opcode, o, i, c);
    o.forEach(def);
  };

  /** An address for a guest memory access: mostly inside the fake RAM. */
  const address = (s: Step): Temp => {
    const at = opts.addrType;
    const mode = s.d % 8;
    if (mode < 4) {
      const x = src(at, s, s.b);
      const t = at === 'i64' ? t64[5]! : t32[4]!;
      emit(`and_${at}`, [t], [x, ctx.const(at, MEM_SIZE - 1)]);
      emit(`add_${at}`, [t], [t, ctx.const(at, MEM_BASE)]);
      return t;
    }
    if (mode < 7) return ctx.const(at, BigInt(MEM_BASE) + (s.v % BigInt(MEM_SIZE + 8)));
    return src(at, s, s.b);
  };
  const memop = (s: Step, maxSize: number): number => {
    let m = s.c % (maxSize + 1);
    if ((s.c >> 2) % 2) m |= MO_SIGN;
    if ((s.c >> 3) % 4 === 0) m |= MO_BE;
    if ((s.c >> 5) % 8 === 0) m |= MO_ALIGN;
    return m;
  };

  ctx.insnStart(pc);
  for (const s of steps) {
    const kind = KINDS[s.k % KINDS.length]!;
    const type = typeOf(s.k >> 6);
    const w = type === 'i64' ? 64 : 32;
    switch (kind) {
      case 'bin': case 'binc': {
        const name = BIN_OPS[s.a % BIN_OPS.length]!;
        const a = src(type, s, s.b);
        const b = kind === 'binc' ? constOf(type, s, s.c) : src(type, s, s.c);
        emit(`${name}_${type}`, [dst(type, s.d)], [a, b]);
        break;
      }
      case 'un': {
        const names: readonly string[] = type === 'i64' ? [...UN_OPS_BOTH, ...UN_OPS_64] : UN_OPS_BOTH;
        emit(`${names[s.a % names.length]!}_${type}`, [dst(type, s.d)], [src(type, s, s.b)]);
        break;
      }
      case 'conv': {
        switch (s.a % 4) {
          case 0: emit('ext_i32_i64', [dst('i64', s.d)], [src('i32', s, s.b)]); break;
          case 1: emit('extu_i32_i64', [dst('i64', s.d)], [src('i32', s, s.b)]); break;
          case 2: emit('extrl_i64_i32', [dst('i32', s.d)], [src('i64', s, s.b)]); break;
          default: emit('extrh_i64_i32', [dst('i32', s.d)], [src('i64', s, s.b)]); break;
        }
        break;
      }
      case 'bswap': {
        const which = type === 'i64' ? ['bswap16', 'bswap32', 'bswap64'][s.a % 3]! : ['bswap16', 'bswap32'][s.a % 2]!;
        emit(`${which}_${type}`, [dst(type, s.d)], [src(type, s, s.b)], which === 'bswap64' ? [] : [[0, 1, 2, 3, 4, 5][s.c % 6]!]);
        break;
      }
      case 'clzctz':
        emit(`${s.a % 2 ? 'clz' : 'ctz'}_${type}`, [dst(type, s.d)], [src(type, s, s.b), src(type, s, s.c)]);
        break;
      case 'field': {
        const ofs = s.b % w;
        const len = 1 + (s.c % (w - ofs));
        const which = ['extract', 'sextract', 'deposit'][s.a % 3]!;
        const ins = which === 'deposit' ? [src(type, s, s.b >> 6), src(type, s, s.c >> 6)] : [src(type, s, s.b >> 6)];
        emit(`${which}_${type}`, [dst(type, s.d)], ins, [ofs, len]);
        break;
      }
      case 'setcond':
        emit(`setcond_${type}`, [dst(type, s.d)], [src(type, s, s.b), src(type, s, s.c)], [ALL_CONDS[s.a % ALL_CONDS.length]!]);
        break;
      case 'movcond':
        emit(`movcond_${type}`, [dst(type, s.d)],
          [src(type, s, s.b), src(type, s, s.c), src(type, s, s.b >> 4), src(type, s, s.c >> 4)],
          [ALL_CONDS[s.a % ALL_CONDS.length]!]);
        break;
      case 'mul2': {
        const names = type === 'i64' ? ['mulu2', 'muls2', 'mulsu2'] : ['mulu2', 'muls2'];
        const lo = dst(type, s.d);
        let hi = dst(type, s.d >> 5);
        if (hi === lo) hi = type === 'i64' ? t64[4]! : t32[3]!;
        if (hi === lo) hi = type === 'i64' ? t64[3]! : t32[2]!;
        emit(`${names[s.a % names.length]!}_${type}`, [lo, hi], [src(type, s, s.b), src(type, s, s.c)]);
        break;
      }
      case 'brcond': case 'br': {
        const labels = [...pending.keys()];
        const l = s.a % 3 === 0 || labels.length === 0 ? ctx.newLabel() : labels[s.a % labels.length]!;
        if (kind === 'br') {
          branchTo(l);
          ctx.br(l);
          defined = null;
        } else {
          const cond = ALL_CONDS[s.c % ALL_CONDS.length]!;
          const a = src(type, s, s.b), b = s.d % 2 ? constOf(type, s, s.d >> 1) : src(type, s, s.d >> 1);
          branchTo(l);
          ctx.brcond(cond, a, b, l);
        }
        break;
      }
      case 'label': {
        const labels = [...pending.keys()];
        if (labels.length > 0) placeLabel(labels[s.a % labels.length]!);
        break;
      }
      case 'exit':
        if (s.a % 4 === 0) { ctx.gotoTb((s.b % 2) as 0 | 1); ctx.exitTb(1 + (s.b % 2)); } else if (s.a % 4 === 1) ctx.lookupAndGotoPtr();
        else ctx.exitTb(s.b % 3);
        defined = null;
        break;
      case 'ld': {
        const m = memop(s, type === 'i64' ? 3 : 2) & ~(MO_BE | MO_ALIGN);
        const size = 1 << (m & 3);
        const ofs = s.b % 2 ? (s.b >> 1) % 40 : s.b % (ENV_SIZE - size + 1);
        emit(`ld_${type}`, [dst(type, s.d)], [], [ofs, m]);
        break;
      }
      case 'st': {
        const m = memop(s, type === 'i64' ? 3 : 2) & 3;
        const size = 1 << m;
        // Half of the stores hit the globals (0..39), sometimes only partly.
        const ofs = s.b % 2 ? (s.b >> 1) % 40 : s.b % (ENV_SIZE - size + 1);
        emit(`st_${type}`, [], [src(type, s, s.d)], [ofs, m]);
        break;
      }
      case 'qld': {
        const addr = address(s);
        emit(`qemu_ld_${type}`, [dst(type, s.a)], [addr], [memop(s, type === 'i64' ? 3 : 2), s.k % 3]);
        break;
      }
      case 'qst': {
        const addr = address(s);
        emit(`qemu_st_${type}`, [], [src(type, s, s.a), addr], [memop(s, type === 'i64' ? 3 : 2) & ~MO_SIGN, s.k % 3]);
        break;
      }
      case 'call': {
        switch (s.a % 10) {
          case 0: case 1: { const r = dst('i64', s.d); ctx.call(helperPure64, r, src('i64', s, s.b), src('i64', s, s.c)); def(r); break; }
          case 2: case 3: { const r = dst('i32', s.d); ctx.call(helperPure32, r, src('i32', s, s.b)); def(r); break; }
          case 4: case 5: case 9: { const r = dst('i64', s.d); ctx.call(helperEffect, r, src('i64', s, s.b), src('i32', s, s.c)); def(r); break; }
          case 6: case 7: ctx.call(helperReader, null, src('i32', s, s.b)); break;
          default: ctx.call(helperRaise, null, src('i32', s, s.b)); defined = null; break;
        }
        break;
      }
      case 'insn':
        pc += 4n;
        ctx.insnStart(pc, s.a & 0xff);
        break;
      case 'discard': {
        const t = (type === 'i64' ? t64 : t32)[s.a % (type === 'i64' ? t64.length : t32.length)]!;
        ctx.discard(t);
        defined?.delete(t);
        break;
      }
      case 'copy': {
        // Copies between globals and temps, so that copy propagation has something to track.
        const temps = type === 'i64' ? t64 : t32;
        const globals = type === 'i64' ? g64 : g32;
        if (s.a % 2) emit(`mov_${type}`, [temps[s.b % temps.length]!], [globals[s.c % globals.length]!]);
        else emit(`mov_${type}`, [globals[s.c % globals.length]!], [src(type, s, s.b)]);
        break;
      }
      case 'misc':
        if (s.a % 2) ctx.mb(); else ctx.emit('nop', [], []);
        break;
    }
  }
  for (const l of [...pending.keys()]) placeLabel(l);
  ctx.exitTb(0);
  return ctx.finish();
}
