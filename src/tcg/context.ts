/**
 * The IR builder a frontend drives while translating one TB (QEMU's tcg_gen_* API, tcg/tcg-op.c).
 *
 * `TcgContext` owns the temps, labels and op list of one translation. Globals are registered once
 * per CPU model with {@link GlobalSet} and shared by every TB of that CPU.
 */
import {
  type Cond, type HelperInfo, type Label, type Op, type Opcode, type TcgType, type Temp,
} from './ir.js';

const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;

/** Normalizes a constant to the zero-extended range of its type. */
export function normConst(type: TcgType, v: bigint | number): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(v);
  return b & (type === 'i32' ? MASK32 : MASK64);
}

/** The set of globals of one CPU model (registers bound to env offsets). */
export class GlobalSet {
  readonly globals: Temp[] = [];
  private nextId = 0;
  /** Registers a global of `type` at byte `offset` of the CPU state. */
  add(type: TcgType, offset: number, name: string): Temp {
    if (type === 'i64' && offset % 8 !== 0) throw new Error(`TCG global ${name}: i64 offset ${offset} not 8-aligned`);
    if (type === 'i32' && offset % 4 !== 0) throw new Error(`TCG global ${name}: i32 offset ${offset} not 4-aligned`);
    const t: Temp = { id: this.nextId++, type, kind: 'global', value: 0n, offset, name };
    this.globals.push(t);
    return t;
  }
  /** Number of ids used by globals; TB temps are numbered from here. */
  get count(): number {
    return this.nextId;
  }
}

/** The IR of one TB, as handed to the optimizer and backends. */
export interface IrFunction {
  ops: Op[];
  /** Every temp any op refers to, indexed by `id` (globals first). */
  temps: Temp[];
  nbLabels: number;
  /** Type of guest virtual addresses (`i64` for RV64/AArch64, `i32` for RV32). */
  addrType: TcgType;
  /** Number of `insn_start` ops (guest instructions) in the TB. */
  nbInsns: number;
}

/** An immediate operand: a number or a bigint, normalized to the temp type. */
export type Imm = bigint | number;

/** IR builder for one TB. Methods mirror QEMU's `tcg_gen_<op>` names. */
export class TcgContext {
  readonly ops: Op[] = [];
  readonly temps: Temp[];
  private nbLabels = 0;
  private nbInsns = 0;
  private readonly consts = new Map<string, Temp>();

  constructor(readonly globals: GlobalSet, readonly addrType: TcgType) {
    this.temps = [...globals.globals];
  }

  /** Finishes the translation and returns the IR. */
  finish(): IrFunction {
    return { ops: this.ops, temps: this.temps, nbLabels: this.nbLabels, addrType: this.addrType, nbInsns: this.nbInsns };
  }

  // ---- temps and labels -------------------------------------------------------------------------

  /** A new TB-lifetime temp (QEMU tcg_temp_new_i32/i64). */
  temp(type: TcgType): Temp {
    const t: Temp = { id: this.temps.length, type, kind: 'temp', value: 0n, offset: -1, name: '' };
    this.temps.push(t);
    return t;
  }
  tempI32(): Temp { return this.temp('i32'); }
  tempI64(): Temp { return this.temp('i64'); }

  /** A constant temp (QEMU tcg_constant_i32/i64); equal constants share one temp. */
  const(type: TcgType, v: Imm): Temp {
    const value = normConst(type, v);
    const key = `${type}:${value}`;
    let t = this.consts.get(key);
    if (!t) {
      t = { id: this.temps.length, type, kind: 'const', value, offset: -1, name: '' };
      this.temps.push(t);
      this.consts.set(key, t);
    }
    return t;
  }
  constI32(v: Imm): Temp { return this.const('i32', v); }
  constI64(v: Imm): Temp { return this.const('i64', v); }

  newLabel(): Label {
    return { id: this.nbLabels++ };
  }

  // ---- raw emission -----------------------------------------------------------------------------

  /** Appends an op after checking temp types against the opcode suffix. */
  emit(opc: Opcode, o: Temp[], i: Temp[], c: number[] = [], extra?: { label?: Label; helper?: HelperInfo }): Op {
    const op: Op = { opc, o, i, c };
    if (extra?.label) op.label = extra.label;
    if (extra?.helper) op.helper = extra.helper;
    this.ops.push(op);
    return op;
  }

  private check(type: TcgType, ...ts: Temp[]): void {
    for (const t of ts) {
      if (t.type !== type) throw new Error(`TCG type mismatch: expected ${type}, got ${t.type} temp #${t.id}`);
      if (t.kind === 'const' && ts[0] === t && false) throw new Error('unreachable');
    }
  }

  private binop(opc: Opcode, type: TcgType, d: Temp, a: Temp, b: Temp): void {
    this.check(type, d, a, b);
    if (d.kind === 'const') throw new Error(`TCG: output of ${opc} is a constant`);
    this.emit(opc, [d], [a, b]);
  }
  private unop(opc: Opcode, type: TcgType, d: Temp, a: Temp): void {
    this.check(type, d, a);
    if (d.kind === 'const') throw new Error(`TCG: output of ${opc} is a constant`);
    this.emit(opc, [d], [a]);
  }

  // ---- generic typed helpers (t = 'i32' | 'i64') ----------------------------------------------------
  mov(d: Temp, a: Temp): void { this.unop(`mov_${d.type}` as Opcode, d.type, d, a); }
  movi(d: Temp, v: Imm): void { this.mov(d, this.const(d.type, v)); }
  add(d: Temp, a: Temp, b: Temp): void { this.binop(`add_${d.type}` as Opcode, d.type, d, a, b); }
  addi(d: Temp, a: Temp, v: Imm): void { this.add(d, a, this.const(d.type, v)); }
  sub(d: Temp, a: Temp, b: Temp): void { this.binop(`sub_${d.type}` as Opcode, d.type, d, a, b); }
  subi(d: Temp, a: Temp, v: Imm): void { this.sub(d, a, this.const(d.type, v)); }
  neg(d: Temp, a: Temp): void { this.unop(`neg_${d.type}` as Opcode, d.type, d, a); }
  mul(d: Temp, a: Temp, b: Temp): void { this.binop(`mul_${d.type}` as Opcode, d.type, d, a, b); }
  muli(d: Temp, a: Temp, v: Imm): void { this.mul(d, a, this.const(d.type, v)); }
  div(d: Temp, a: Temp, b: Temp): void { this.binop(`div_${d.type}` as Opcode, d.type, d, a, b); }
  divu(d: Temp, a: Temp, b: Temp): void { this.binop(`divu_${d.type}` as Opcode, d.type, d, a, b); }
  rem(d: Temp, a: Temp, b: Temp): void { this.binop(`rem_${d.type}` as Opcode, d.type, d, a, b); }
  remu(d: Temp, a: Temp, b: Temp): void { this.binop(`remu_${d.type}` as Opcode, d.type, d, a, b); }
  and(d: Temp, a: Temp, b: Temp): void { this.binop(`and_${d.type}` as Opcode, d.type, d, a, b); }
  andi(d: Temp, a: Temp, v: Imm): void { this.and(d, a, this.const(d.type, v)); }
  or(d: Temp, a: Temp, b: Temp): void { this.binop(`or_${d.type}` as Opcode, d.type, d, a, b); }
  ori(d: Temp, a: Temp, v: Imm): void { this.or(d, a, this.const(d.type, v)); }
  xor(d: Temp, a: Temp, b: Temp): void { this.binop(`xor_${d.type}` as Opcode, d.type, d, a, b); }
  xori(d: Temp, a: Temp, v: Imm): void { this.xor(d, a, this.const(d.type, v)); }
  not(d: Temp, a: Temp): void { this.unop(`not_${d.type}` as Opcode, d.type, d, a); }
  andc(d: Temp, a: Temp, b: Temp): void { this.binop(`andc_${d.type}` as Opcode, d.type, d, a, b); }
  orc(d: Temp, a: Temp, b: Temp): void { this.binop(`orc_${d.type}` as Opcode, d.type, d, a, b); }
  eqv(d: Temp, a: Temp, b: Temp): void { this.binop(`eqv_${d.type}` as Opcode, d.type, d, a, b); }
  /** Shift left; the count is taken modulo the width. */
  shl(d: Temp, a: Temp, b: Temp): void { this.binop(`shl_${d.type}` as Opcode, d.type, d, a, b); }
  shli(d: Temp, a: Temp, v: number): void { this.shl(d, a, this.const(d.type, v)); }
  shr(d: Temp, a: Temp, b: Temp): void { this.binop(`shr_${d.type}` as Opcode, d.type, d, a, b); }
  shri(d: Temp, a: Temp, v: number): void { this.shr(d, a, this.const(d.type, v)); }
  sar(d: Temp, a: Temp, b: Temp): void { this.binop(`sar_${d.type}` as Opcode, d.type, d, a, b); }
  sari(d: Temp, a: Temp, v: number): void { this.sar(d, a, this.const(d.type, v)); }
  rotl(d: Temp, a: Temp, b: Temp): void { this.binop(`rotl_${d.type}` as Opcode, d.type, d, a, b); }
  rotr(d: Temp, a: Temp, b: Temp): void { this.binop(`rotr_${d.type}` as Opcode, d.type, d, a, b); }
  ext8s(d: Temp, a: Temp): void { this.unop(`ext8s_${d.type}` as Opcode, d.type, d, a); }
  ext8u(d: Temp, a: Temp): void { this.unop(`ext8u_${d.type}` as Opcode, d.type, d, a); }
  ext16s(d: Temp, a: Temp): void { this.unop(`ext16s_${d.type}` as Opcode, d.type, d, a); }
  ext16u(d: Temp, a: Temp): void { this.unop(`ext16u_${d.type}` as Opcode, d.type, d, a); }
  ext32s(d: Temp, a: Temp): void { this.unop('ext32s_i64', 'i64', d, a); }
  ext32u(d: Temp, a: Temp): void { this.unop('ext32u_i64', 'i64', d, a); }
  /** d (i64) = sign-extended a (i32). */
  extI32I64(d: Temp, a: Temp): void { this.check('i64', d); this.check('i32', a); this.emit('ext_i32_i64', [d], [a]); }
  /** d (i64) = zero-extended a (i32). */
  extuI32I64(d: Temp, a: Temp): void { this.check('i64', d); this.check('i32', a); this.emit('extu_i32_i64', [d], [a]); }
  /** d (i32) = low half of a (i64). */
  extrlI64I32(d: Temp, a: Temp): void { this.check('i32', d); this.check('i64', a); this.emit('extrl_i64_i32', [d], [a]); }
  /** d (i32) = high half of a (i64). */
  extrhI64I32(d: Temp, a: Temp): void { this.check('i32', d); this.check('i64', a); this.emit('extrh_i64_i32', [d], [a]); }

  extract(d: Temp, a: Temp, ofs: number, len: number): void {
    this.check(d.type, d, a); this.checkField(d.type, ofs, len);
    this.emit(`extract_${d.type}` as Opcode, [d], [a], [ofs, len]);
  }
  sextract(d: Temp, a: Temp, ofs: number, len: number): void {
    this.check(d.type, d, a); this.checkField(d.type, ofs, len);
    this.emit(`sextract_${d.type}` as Opcode, [d], [a], [ofs, len]);
  }
  /** d = a with bits [ofs, ofs+len) replaced by the low `len` bits of b. */
  deposit(d: Temp, a: Temp, b: Temp, ofs: number, len: number): void {
    this.check(d.type, d, a, b); this.checkField(d.type, ofs, len);
    this.emit(`deposit_${d.type}` as Opcode, [d], [a, b], [ofs, len]);
  }
  private checkField(type: TcgType, ofs: number, len: number): void {
    const w = type === 'i32' ? 32 : 64;
    if (!(ofs >= 0 && len >= 1 && ofs + len <= w)) throw new Error(`TCG: bad bit field ofs=${ofs} len=${len} for ${type}`);
  }
  bswap16(d: Temp, a: Temp): void { this.check(d.type, d, a); this.emit(`bswap16_${d.type}` as Opcode, [d], [a], [0]); }
  bswap32(d: Temp, a: Temp): void { this.check(d.type, d, a); this.emit(`bswap32_${d.type}` as Opcode, [d], [a], [0]); }
  bswap64(d: Temp, a: Temp): void { this.check('i64', d, a); this.emit('bswap64_i64', [d], [a], []); }
  /** Count leading zeros; `ifZero` is the result when a == 0. */
  clz(d: Temp, a: Temp, ifZero: Temp): void { this.check(d.type, d, a, ifZero); this.emit(`clz_${d.type}` as Opcode, [d], [a, ifZero]); }
  ctz(d: Temp, a: Temp, ifZero: Temp): void { this.check(d.type, d, a, ifZero); this.emit(`ctz_${d.type}` as Opcode, [d], [a, ifZero]); }
  ctpop(d: Temp, a: Temp): void { this.unop(`ctpop_${d.type}` as Opcode, d.type, d, a); }

  /** (lo, hi) = a * b, unsigned full product. */
  mulu2(lo: Temp, hi: Temp, a: Temp, b: Temp): void { this.check(lo.type, lo, hi, a, b); this.emit(`mulu2_${lo.type}` as Opcode, [lo, hi], [a, b]); }
  /** (lo, hi) = a * b, signed full product. */
  muls2(lo: Temp, hi: Temp, a: Temp, b: Temp): void { this.check(lo.type, lo, hi, a, b); this.emit(`muls2_${lo.type}` as Opcode, [lo, hi], [a, b]); }
  /** (lo, hi) = a (signed) * b (unsigned), i64 only. */
  mulsu2(lo: Temp, hi: Temp, a: Temp, b: Temp): void { this.check('i64', lo, hi, a, b); this.emit('mulsu2_i64', [lo, hi], [a, b]); }

  /** d = (a cond b) ? 1 : 0. */
  setcond(cond: Cond, d: Temp, a: Temp, b: Temp): void { this.check(d.type, d, a, b); this.emit(`setcond_${d.type}` as Opcode, [d], [a, b], [cond]); }
  /** d = (c1 cond c2) ? v1 : v2. */
  movcond(cond: Cond, d: Temp, c1: Temp, c2: Temp, v1: Temp, v2: Temp): void {
    this.check(d.type, d, c1, c2, v1, v2);
    this.emit(`movcond_${d.type}` as Opcode, [d], [c1, c2, v1, v2], [cond]);
  }
  brcond(cond: Cond, a: Temp, b: Temp, label: Label): void {
    this.check(a.type, a, b);
    this.emit(`brcond_${a.type}` as Opcode, [], [a, b], [cond], { label });
  }
  brcondi(cond: Cond, a: Temp, v: Imm, label: Label): void { this.brcond(cond, a, this.const(a.type, v), label); }
  br(label: Label): void { this.emit('br', [], [], [], { label }); }
  setLabel(label: Label): void { this.emit('set_label', [], [], [], { label }); }

  /** d = env[offset] with memop size/sign (QEMU tcg_gen_ld*). */
  ld(d: Temp, offset: number, memop: number): void { this.emit(`ld_${d.type}` as Opcode, [d], [], [offset, memop]); }
  /** env[offset] = v, truncated to the memop size (QEMU tcg_gen_st*). */
  st(v: Temp, offset: number, memop: number): void { this.emit(`st_${v.type}` as Opcode, [], [v], [offset, memop]); }

  /** Guest memory load through the soft TLB. */
  qemuLd(d: Temp, addr: Temp, mmuIdx: number, memop: number): void {
    this.check(this.addrType, addr);
    this.emit(`qemu_ld_${d.type}` as Opcode, [d], [addr], [memop, mmuIdx]);
  }
  /** Guest memory store through the soft TLB. */
  qemuSt(v: Temp, addr: Temp, mmuIdx: number, memop: number): void {
    this.check(this.addrType, addr);
    this.emit(`qemu_st_${v.type}` as Opcode, [], [v, addr], [memop, mmuIdx]);
  }

  /** Calls a helper; `ret` receives its result if the helper has one. */
  call(helper: HelperInfo, ret: Temp | null, ...args: Temp[]): void {
    if (args.length !== helper.args.length) throw new Error(`TCG: helper ${helper.name} takes ${helper.args.length} args, got ${args.length}`);
    args.forEach((a, k) => this.check(helper.args[k]!, a));
    if ((ret === null) !== (helper.ret === undefined)) throw new Error(`TCG: helper ${helper.name} return mismatch`);
    if (ret && helper.ret) this.check(helper.ret, ret);
    this.emit('call', ret ? [ret] : [], args, [], { helper });
  }

  /** Marks the start of a guest instruction at `pc`; extra words are target-specific restore data. */
  insnStart(pc: bigint | number, ...extra: number[]): void {
    const p = normConst('i64', pc);
    this.nbInsns++;
    this.emit('insn_start', [], [], [Number(p & MASK32) | 0, Number(p >> 32n) | 0, ...extra]);
  }
  /** Direct jump slot `n` (0 or 1); must be followed by setting the pc and `exitTb(n + 1)`. */
  gotoTb(n: 0 | 1): void { this.emit('goto_tb', [], [], [n]); }
  /** Leaves the TB; `value` 0 = plain exit, 1/2 = through chain slot 0/1. */
  exitTb(value: number): void { this.emit('exit_tb', [], [], [value]); }
  /** Continues with the TB at the pc in env (indirect jump), or exits to the loop. */
  lookupAndGotoPtr(): void { this.emit('lookup_and_goto_ptr', [], [], []); }
  discard(t: Temp): void { this.emit('discard', [t], []); }
  mb(): void { this.emit('mb', [], []); }
}
