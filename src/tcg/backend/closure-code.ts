/**
 * The closure backend's threaded code: a TB bound to a runtime is an `Int32Array` of fixed-size records
 * run by {@link runThreaded}, one `switch` over the record's opcode. The common ops of RISC-V code, whose
 * operands are all globals (words of `env`) or constants (immediates in the record), are cases of the
 * switch; every other op is a closure ({@link T.STEP}), as the closure backend compiles it.
 *
 * Why a switch and not only closures: in V8 a closure call per op is an indirect call that is rarely
 * inlined, plus the loads of the closure's captured operands; one `switch` in one function reads the
 * operands from the record instead. Measured in a micro-benchmark (blocks of 4-6 random i64 ops, Node 20):
 * ~7 ns/op for the switch against ~15 ns/op for one closure per op; on RV64 intmix, see closure.ts. One
 * switch with every record beats a smaller one for the common records and a second function for the
 * rest (intmix 75 against 70 MIPS).
 *
 * Record layout (REC words): [opcode, d, a, b, kl, kh, x, y]; word indexes of env in d/a/b, a 64-bit
 * immediate in kl/kh, and x/y per opcode (memop and MMU index, a branch's relation and bias, an exit value).
 */
import type { TbRuntime } from './backend.js';
import { mulhu32 } from './wide-arith.js';

/** Words per record. */
export const REC = 8;

/** Opcodes of the threaded code (64-bit values are (lo, hi) word pairs at d, a, b). */
export const enum T {
  /** steps[x]() — any op the switch does not have. */
  STEP,
  /** d = (kl, kh) */
  MOV_C,
  MOV,
  ADD_C,
  ADD,
  SUB,
  AND_C,
  AND,
  OR_C,
  OR,
  XOR_C,
  XOR,
  /** d = a << kl, 0 < kl < 32 (SHL_C32: 32 <= kl < 64; likewise SHR, SAR). */
  SHL_C,
  SHL_C32,
  SHR_C,
  SHR_C32,
  SAR_C,
  SAR_C32,
  EXT32S,
  EXT32U,
  MUL,
  /** The RV64 word ops: a 32-bit result sign-extended (`op t; ext32s_i64 d, t`). SHLW_C: 0 <= kl < 32. */
  ADDW_C,
  ADDW,
  SUBW,
  MULW,
  SHLW_C,
  /** d = load(a + (kl, kh)): b = the instruction index, x = memop, y = MMU index; 64-bit, signed, unsigned. */
  LD64,
  LDS,
  LDU,
  /** store(a + (kl, kh), value at d): b = instruction index, x = memop, y = MMU index. */
  ST,
  /** As LD64, LDS, LDU and ST with a 32-bit address: the low word of a + kl (RV32 on 64-bit registers). */
  LD64_A32,
  LDS_A32,
  LDU_A32,
  ST_A32,
  /** Go to the record at word d. */
  JMP,
  /**
   * Go to word d if (a, kl) rel (b, kh): words (lo at a/b, hi at kl/kh; an i32 compare names its low word
   * twice), x = relation (0 eq, 1 ne, 2 lt, 3 le), y = the xor bias of the high words (MIN: unsigned).
   */
  BR,
  /** As BR with the second operand an immediate: lo in b, hi in kh. */
  BR_C,
  /** Go to word d if tests[x]() (a branch on temps). */
  BR_FN,
  /** Return x. */
  EXIT,
  /** env[a] = kl, env[a+1] = kh (a 64-bit pc), return x. */
  EXIT_PC,
  /** env[a] = kl (a 32-bit pc), return x. */
  EXIT_PC32,
  /**
   * The usual end of a RISC-V TB, a branch between two exits that store a 64-bit pc, as one record pair:
   * [BRX, e, xl, yl, xh, yh, rel, bias][taken lo, hi, exit; not taken lo, hi, exit; 0, 0]. The comparison
   * as in BR; the pc at env[e]. BRX_C: the second operand an immediate (yl, yh).
   */
  BRX,
  BRX_C,
}

const MIN = -0x80000000;

/** `x rel y` on (lo, hi) words (see T.BR). */
function test(rel: number, hb: number, xl: number, xh: number, yl: number, yh: number): boolean {
  if (rel < 2) return (xl === yl && xh === yh) !== (rel === 1);
  const a = xh ^ hb, b = yh ^ hb;
  if (a !== b) return a < b;
  const c = xl ^ MIN, d = yl ^ MIN;
  return rel === 2 ? c < d : c <= d;
}

/** Runs threaded code from its first record to an exit; returns the exit value. */
export function runThreaded(C: Int32Array, E: Int32Array, steps: readonly (() => void)[],
  tests: readonly (() => boolean)[], rt: TbRuntime): number {
  let p = 0;
  for (;;) {
    switch (C[p]) {
      case T.STEP: steps[C[p + 6]!]!(); break;
      case T.MOV_C: { const d = C[p + 1]!; E[d] = C[p + 4]!; E[d + 1] = C[p + 5]!; break; }
      case T.MOV: { const d = C[p + 1]!, a = C[p + 2]!; E[d] = E[a]!; E[d + 1] = E[a + 1]!; break; }
      case T.ADD_C: {
        const d = C[p + 1]!, a = C[p + 2]!, al = E[a]!, lo = (al + C[p + 4]!) | 0;
        E[d + 1] = (E[a + 1]! + C[p + 5]! + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; E[d] = lo;
        break;
      }
      case T.ADD: {
        const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!, al = E[a]!, lo = (al + E[b]!) | 0;
        E[d + 1] = (E[a + 1]! + E[b + 1]! + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; E[d] = lo;
        break;
      }
      case T.SUB: {
        const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!, al = E[a]!, bl = E[b]!;
        E[d + 1] = (E[a + 1]! - E[b + 1]! - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; E[d] = (al - bl) | 0;
        break;
      }
      case T.AND_C: { const d = C[p + 1]!, a = C[p + 2]!; E[d] = E[a]! & C[p + 4]!; E[d + 1] = E[a + 1]! & C[p + 5]!; break; }
      case T.AND: { const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!; E[d] = E[a]! & E[b]!; E[d + 1] = E[a + 1]! & E[b + 1]!; break; }
      case T.OR_C: { const d = C[p + 1]!, a = C[p + 2]!; E[d] = E[a]! | C[p + 4]!; E[d + 1] = E[a + 1]! | C[p + 5]!; break; }
      case T.OR: { const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!; E[d] = E[a]! | E[b]!; E[d + 1] = E[a + 1]! | E[b + 1]!; break; }
      case T.XOR_C: { const d = C[p + 1]!, a = C[p + 2]!; E[d] = E[a]! ^ C[p + 4]!; E[d + 1] = E[a + 1]! ^ C[p + 5]!; break; }
      case T.XOR: { const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!; E[d] = E[a]! ^ E[b]!; E[d + 1] = E[a + 1]! ^ E[b + 1]!; break; }
      case T.SHL_C: {
        const d = C[p + 1]!, a = C[p + 2]!, n = C[p + 4]!, l = E[a]!;
        E[d + 1] = (E[a + 1]! << n) | (l >>> (32 - n)); E[d] = l << n;
        break;
      }
      case T.SHL_C32: { const d = C[p + 1]!; E[d + 1] = E[C[p + 2]!]! << C[p + 4]!; E[d] = 0; break; }
      case T.SHR_C: {
        const d = C[p + 1]!, a = C[p + 2]!, n = C[p + 4]!, h = E[a + 1]!;
        E[d] = (E[a]! >>> n) | (h << (32 - n)); E[d + 1] = h >>> n;
        break;
      }
      case T.SHR_C32: { const d = C[p + 1]!; E[d] = E[C[p + 2]! + 1]! >>> C[p + 4]!; E[d + 1] = 0; break; }
      case T.SAR_C: {
        const d = C[p + 1]!, a = C[p + 2]!, n = C[p + 4]!, h = E[a + 1]!;
        E[d] = (E[a]! >>> n) | (h << (32 - n)); E[d + 1] = h >> n;
        break;
      }
      case T.SAR_C32: { const d = C[p + 1]!, h = E[C[p + 2]! + 1]!; E[d] = h >> C[p + 4]!; E[d + 1] = h >> 31; break; }
      case T.EXT32S: { const d = C[p + 1]!, l = E[C[p + 2]!]!; E[d] = l; E[d + 1] = l >> 31; break; }
      case T.EXT32U: { const d = C[p + 1]!; E[d] = E[C[p + 2]!]!; E[d + 1] = 0; break; }
      case T.MUL: {
        const d = C[p + 1]!, a = C[p + 2]!, b = C[p + 3]!, al = E[a]!, bl = E[b]!;
        E[d + 1] = (Math.imul(al, E[b + 1]!) + Math.imul(E[a + 1]!, bl) + mulhu32(al, bl)) | 0;
        E[d] = Math.imul(al, bl);
        break;
      }
      case T.ADDW_C: { const d = C[p + 1]!, l = (E[C[p + 2]!]! + C[p + 4]!) | 0; E[d] = l; E[d + 1] = l >> 31; break; }
      case T.ADDW: { const d = C[p + 1]!, l = (E[C[p + 2]!]! + E[C[p + 3]!]!) | 0; E[d] = l; E[d + 1] = l >> 31; break; }
      case T.SUBW: { const d = C[p + 1]!, l = (E[C[p + 2]!]! - E[C[p + 3]!]!) | 0; E[d] = l; E[d + 1] = l >> 31; break; }
      case T.MULW: { const d = C[p + 1]!, l = Math.imul(E[C[p + 2]!]!, E[C[p + 3]!]!); E[d] = l; E[d + 1] = l >> 31; break; }
      case T.SHLW_C: { const d = C[p + 1]!, l = E[C[p + 2]!]! << C[p + 4]!; E[d] = l; E[d + 1] = l >> 31; break; }
      case T.LD64: case T.LDS: case T.LDU: {
        const a = C[p + 2]!, al = E[a]!, lo = (al + C[p + 4]!) | 0;
        rt.curInsn = C[p + 3]!;
        const l = rt.load(lo, (E[a + 1]! + C[p + 5]! + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, C[p + 6]!, C[p + 7]!) | 0;
        const d = C[p + 1]!, op = C[p]!;
        E[d] = l;
        E[d + 1] = op === T.LD64 ? rt.loadHi | 0 : op === T.LDS ? l >> 31 : 0;
        break;
      }
      case T.LD64_A32: case T.LDS_A32: case T.LDU_A32: {
        rt.curInsn = C[p + 3]!;
        const l = rt.load((E[C[p + 2]!]! + C[p + 4]!) | 0, 0, C[p + 6]!, C[p + 7]!) | 0;
        const d = C[p + 1]!, op = C[p]!;
        E[d] = l;
        E[d + 1] = op === T.LD64_A32 ? rt.loadHi | 0 : op === T.LDS_A32 ? l >> 31 : 0;
        break;
      }
      case T.ST_A32: {
        const v = C[p + 1]!;
        rt.curInsn = C[p + 3]!;
        rt.store((E[C[p + 2]!]! + C[p + 4]!) | 0, 0, E[v]!, E[v + 1]!, C[p + 6]!, C[p + 7]!);
        break;
      }
      case T.ST: {
        const a = C[p + 2]!, al = E[a]!, lo = (al + C[p + 4]!) | 0, v = C[p + 1]!;
        rt.curInsn = C[p + 3]!;
        rt.store(lo, (E[a + 1]! + C[p + 5]! + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, E[v]!, E[v + 1]!, C[p + 6]!, C[p + 7]!);
        break;
      }
      case T.JMP: p = C[p + 1]!; continue;
      case T.BR:
        if (test(C[p + 6]!, C[p + 7]!, E[C[p + 2]!]!, E[C[p + 4]!]!, E[C[p + 3]!]!, E[C[p + 5]!]!)) { p = C[p + 1]!; continue; }
        break;
      case T.BR_C:
        if (test(C[p + 6]!, C[p + 7]!, E[C[p + 2]!]!, E[C[p + 4]!]!, C[p + 3]!, C[p + 5]!)) { p = C[p + 1]!; continue; }
        break;
      case T.BR_FN:
        if (tests[C[p + 6]!]!()) { p = C[p + 1]!; continue; }
        break;
      case T.BRX: case T.BRX_C: {
        const e = C[p + 1]!, q = C[p]! === T.BRX;
        const o = test(C[p + 6]!, C[p + 7]!, E[C[p + 2]!]!, E[C[p + 4]!]!, q ? E[C[p + 3]!]! : C[p + 3]!, q ? E[C[p + 5]!]! : C[p + 5]!)
          ? p + REC : p + REC + 3;
        E[e] = C[o]!; E[e + 1] = C[o + 1]!;
        return C[o + 2]!;
      }
      case T.EXIT: return C[p + 6]!;
      case T.EXIT_PC: { const e = C[p + 2]!; E[e] = C[p + 4]!; E[e + 1] = C[p + 5]!; return C[p + 6]!; }
      case T.EXIT_PC32: E[C[p + 2]!] = C[p + 4]!; return C[p + 6]!;
      default: throw new Error(`closure backend: bad threaded opcode ${C[p]!}`);
    }
    p += REC;
  }
}
