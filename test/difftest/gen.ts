/**
 * Random RV64 instruction blocks for the differential test, drawn from softboard's decode tables
 * (insn32.decode.ts, insn16.decode.ts): every RV64 pattern of I, M, A, F, D, C, Zicsr (fcsr, frm,
 * fflags only), Zba, Zbb, Zbc and Zbs, minus {@link EXCLUDED} (each with its reason).
 *
 * fast-check generates *raw choices* (a pattern index, register numbers, an immediate, a selector per
 * item) and the initial state; {@link legalize} turns them deterministically into a block that both
 * QEMU user mode and softboard can run to its end without trapping, and whose result the spec defines:
 * - loads, stores and atomics address the data area through *pointer registers* (sp, s0, s1 hold data-area
 *   addresses, see {@link POINTERS}); offsets keep every access inside the area, naturally aligned except
 *   for 1 in 16 non-atomic 32-bit-form accesses, which are misaligned (the spec leaves misaligned accesses to
 *   the execution environment; QEMU, user and system mode, performs them, and softboard must match it);
 *   a pointer register written by any earlier instruction (in program order) is no longer used as a base;
 * - 1 in 16 loads, stores and atomics faults on purpose: its address is {@link UNMAPPED} (SIGSEGV / access
 *   fault), or, for atomics, misaligned (SIGBUS / address-misaligned): the block stops there, which checks
 *   that softboard's exceptions in the middle of a TB are precise (earlier results committed, pc exact);
 * - branches and jumps only go forward, to an item boundary or the block end (jalr/c.jr/c.jalr come
 *   with the auipc that makes their target known);
 * - SC only pairs with the LR before it (same address and width, no store in between), or goes to an
 *   address no LR of the block used (it then fails on both);
 * - CSR writes keep frm valid (0..4), so dynamic rounding never traps; static rm is 0..4 or 7 (dyn);
 * - `ctzw` always sees a value with a bit set in its low word (QEMU 7.2 bug, see {@link EXCLUDED}).
 * A few items are *wild encodings* instead ({@link WILD_PERCENT}): a random 32- or 16-bit word, or a pool
 * pattern with random operand fields (reserved rm values, reserved compressed forms…), with or without one
 * fixed bit flipped. Those softboard's decoder reads as an instruction that cannot touch memory, jump or
 * reach privileged state are kept, and so are those it rejects: QEMU must then raise SIGILL at the same
 * pc (the runner catches the signal and reports the state at the trap).
 * Shrinking works on the raw choices, so a shrunk case is still a legal block.
 */
import fc from 'fast-check';
import { EncodeError, encodeArgs, extractArgs, patternEnabled, type Args, type Pattern } from '../../src/target/riscv/decodetree.js';
import { INSN16, INSN16_PATTERNS } from '../../src/target/riscv/insn16.decode.js';
import { INSN32, INSN32_PATTERNS } from '../../src/target/riscv/insn32.decode.js';
import { BLOCK_PC, DATA_BASE, DATA_SIZE, type DiffCase, type Insn } from './layout.js';

/** Instructions left out of the random blocks, and why. */
export const EXCLUDED: ReadonlyMap<string, string> = new Map([
  ['ecall', 'a Linux system call under qemu-riscv64, an exception on softboard'],
  ['ebreak', 'SIGTRAP under qemu-riscv64'],
  ['c.ebreak', 'SIGTRAP under qemu-riscv64'],
  ['mret', 'privileged: SIGILL in user mode'],
  ['sret', 'privileged: SIGILL in user mode'],
  ['wfi', 'privileged: SIGILL in user mode'],
  ['sfence.vma', 'privileged: SIGILL in user mode'],
  ['fence.i', 'no self-modifying code inside a block (excluded by the test plan)'],
]);

/** Registers holding data-area addresses at block entry (the generator's bases for memory accesses). */
export const POINTERS: ReadonlyMap<number, bigint> = new Map([
  [2, DATA_BASE], // sp: c.lwsp/c.ldsp/c.fldsp/c.*sp offsets are unsigned, so sp points at the area start
  [8, DATA_BASE + 0x200n], // s0: base of c.lw/c.ld/c.fld… (x8..x15), ±512 reaches the whole area
  [9, DATA_BASE + 0x300n], // s1
]);

const RV64_ALL = { xlen: 64 as const, hasExt: (): boolean => true };

/** An address mapped neither by the runner under qemu-riscv64 nor in softboard's test machine. */
export const UNMAPPED = 0x8000;

/** Rounding modes the generator emits: the five static ones and dyn (5 and 6 are reserved: SIGILL). */
export const RMS = [0, 1, 2, 3, 4, 7] as const;

/** What legalization does with a pattern. */
export type Kind = 'alu' | 'fp' | 'load' | 'store' | 'amo' | 'lr' | 'sc' | 'branch' | 'jal' | 'jalr' | 'csr' | 'fence' | 'ctzw';

const LOADS = new Set(['lb', 'lh', 'lw', 'ld', 'lbu', 'lhu', 'lwu', 'flw', 'fld']);
const STORES = new Set(['sb', 'sh', 'sw', 'sd', 'fsw', 'fsd']);
const BRANCHES = new Set(['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu']);

/** The kind of a pattern (by its trans_ name). */
export function kindOf(p: Pattern): Kind {
  const n = p.name;
  if (n.startsWith('lr_')) return 'lr';
  if (n.startsWith('sc_')) return 'sc';
  if (n.startsWith('amo')) return 'amo';
  if (LOADS.has(n)) return 'load';
  if (STORES.has(n)) return 'store';
  if (BRANCHES.has(n)) return 'branch';
  if (n === 'jal') return 'jal';
  if (n === 'jalr') return 'jalr';
  if (n.startsWith('csr')) return 'csr';
  if (n === 'fence') return 'fence';
  if (n === 'ctzw') return 'ctzw';
  if (n.startsWith('f')) return 'fp';
  return 'alu';
}

/** Every pattern the generator draws from (RV64, all extensions, minus {@link EXCLUDED}). */
export const POOL: readonly Pattern[] = [...INSN32_PATTERNS, ...INSN16_PATTERNS].filter(
  (p) => !p.illegal && patternEnabled(p, RV64_ALL) && !EXCLUDED.has(p.mnemonic),
);

// ---- raw choices ----------------------------------------------------------------------------------

/**
 * One raw item: a pattern (index into {@link POOL}), four register numbers, an immediate, a selector,
 * and `wild` (0..99): values from 100 - {@link WILD_PERCENT} up make the item a wild encoding.
 */
export interface RawItem {
  readonly op: number;
  readonly r: readonly [number, number, number, number];
  readonly imm: number;
  readonly sel: number;
  readonly wild: number;
}

/** Default percentage of items that are wild encodings (see the module comment). */
export const WILD_PERCENT = 3;

/** Registers: mostly a0..a5 (x10..x15, also reachable by compressed forms), so results feed later insns. */
const regArb = fc.oneof(
  { arbitrary: fc.integer({ min: 10, max: 15 }), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 31 }), weight: 2 },
);
const immArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, -1, 2, 31, 32, 63, -32, 2047, -2048, 0x7ffff, -0x80000), weight: 1 },
  { arbitrary: fc.integer({ min: -64, max: 64 }), weight: 1 },
  { arbitrary: fc.integer(), weight: 2 },
);

/** Arbitrary raw item. */
export const rawItemArb: fc.Arbitrary<RawItem> = fc.record({
  op: fc.nat(POOL.length - 1),
  r: fc.tuple(regArb, regArb, regArb, regArb),
  imm: immArb,
  sel: fc.nat(0xffff),
  wild: fc.nat(99),
});

// ---- values ---------------------------------------------------------------------------------------

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Integer values around the interesting boundaries: 0, ±1, 32-bit and 64-bit limits. */
export const xValueArb: fc.Arbitrary<bigint> = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      0n, 1n, 2n, u64(-1n), u64(-2n), 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn,
      0x8000000000000000n, 0xffffffff80000000n, 0xffffffff7fffffffn, 0x00000000fffffffen, 0x8000000000000001n,
      0x1fn, 0x20n, 0x3fn, 0x40n, 0x8000n, 0xffffn, 0xff80n, 0x80n,
    ),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: -64, max: 64 }).map((v) => u64(BigInt(v))), weight: 1 },
  { arbitrary: fc.integer().map((v) => u64(BigInt(v))), weight: 1 }, // sign-extended 32-bit
  { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), weight: 3 },
);

const F32_SPECIAL = [
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fa00000,
  0x7fc00001, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff,
  0x3f800000, 0xbf800000, 0x3f000000, 0xbf000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x4f000000, 0xcf000000,
  0x4f800000, 0x5f000000, 0xdf000000, 0x5f800000, 0x4effffff, 0x3effffff, 0x3f7fffff, 0x33800000, 0x34000000,
];
const F64_SPECIAL = [
  0x0000000000000000n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n,
  0xfff8000000000000n, 0x7ff0000000000001n, 0x7ff4000000000000n, 0xfff0000000000001n, 0x7ff8000000000001n,
  0x0000000000000001n, 0x8000000000000001n, 0x000fffffffffffffn, 0x0010000000000000n, 0x8010000000000000n,
  0x7fefffffffffffffn, 0xffefffffffffffffn, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3fe0000000000000n,
  0xbfe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0xc004000000000000n, 0x41e0000000000000n,
  0xc1e0000000000000n, 0x41dfffffffc00000n, 0x41f0000000000000n, 0x43e0000000000000n, 0xc3e0000000000000n,
  0x43f0000000000000n, 0x43dfffffffffffffn, 0x3fefffffffffffffn, 0x36a0000000000000n, 0x3810000000000000n,
  0x47efffffe0000000n, 0x47efffff00000000n, 0x3690000000000000n, 0x380fffffffffffffn,
];
const BOX = 0xffffffff00000000n;
const f32Arb = fc.oneof(
  { arbitrary: fc.constantFrom(...F32_SPECIAL), weight: 3 },
  { arbitrary: fc.float({ noDefaultInfinity: false }).map((x) => new Uint32Array(new Float32Array([x]).buffer)[0]!), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 },
);
/** f register values: NaN-boxed singles, doubles, and singles whose boxing is broken (they read as qNaN). */
export const fValueArb: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: f32Arb.map((s) => BOX | BigInt(s >>> 0)), weight: 4 },
  { arbitrary: fc.constantFrom(...F64_SPECIAL), weight: 3 },
  { arbitrary: fc.double().map((d) => new BigUint64Array(new Float64Array([d]).buffer)[0]!), weight: 2 },
  {
    // broken boxing: upper half not all ones
    arbitrary: fc.tuple(f32Arb, fc.constantFrom(0n, 0x7fffffffn, 0xfffffffen, 0x80000000n)).map(([s, hi]) => (hi << 32n) | BigInt(s >>> 0)),
    weight: 1,
  },
  { arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), weight: 1 },
);

/** fcsr with a valid frm (0..4) and any accrued flags. */
export const fcsrArb: fc.Arbitrary<number> = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 31 }))
  .map(([frm, flags]) => (frm << 5) | flags);

/** The data area: 128 doublewords of integer or FP special values. */
export const dataArb: fc.Arbitrary<Uint8Array> = fc.array(fc.oneof(xValueArb, fValueArb), { minLength: DATA_SIZE / 8, maxLength: DATA_SIZE / 8 })
  .map((words) => new Uint8Array(new BigUint64Array(words).buffer));

/** Raw material of a case, before legalization. */
export interface RawCase {
  readonly items: readonly RawItem[];
  readonly x: readonly bigint[];
  readonly f: readonly bigint[];
  readonly fcsr: number;
  readonly data: Uint8Array;
}

/** Options of {@link caseArb}. */
export interface CaseArbOptions {
  /** Most items (an item is one instruction, or a short macro such as auipc + jalr); default 16. */
  readonly maxItems?: number;
  /** Percentage of wild encodings (default {@link WILD_PERCENT}). */
  readonly wildPercent?: number;
}

/** Arbitrary raw case (shrinks on raw choices); map with {@link legalize} to get a {@link DiffCase}. */
export function rawCaseArb(opts: CaseArbOptions = {}): fc.Arbitrary<RawCase> {
  return fc.record({
    items: fc.array(rawItemArb, { minLength: 1, maxLength: opts.maxItems ?? 16 }),
    x: fc.array(xValueArb, { minLength: 32, maxLength: 32 }),
    f: fc.array(fValueArb, { minLength: 32, maxLength: 32 }),
    fcsr: fcsrArb,
    data: dataArb,
  });
}

/** Arbitrary legal case. */
export function caseArb(opts: CaseArbOptions = {}): fc.Arbitrary<DiffCase> {
  return rawCaseArb(opts).map((r) => legalize(r, opts));
}

// ---- legalization ---------------------------------------------------------------------------------

/** An instruction whose offset may still be unknown (branches: resolved once the layout is known). */
interface Pending {
  readonly p: Pattern;
  readonly args: Args;
  /** A wild encoding: these exact bits (`p` is then what softboard decodes them as, or {@link ILLEGAL}). */
  readonly wild?: Insn;
  /** Jump target as an item index (items.length = the block end), and what the offset is relative to. */
  readonly target?: { readonly item: number; readonly from: 'insn' | 'item'; readonly arg: string; readonly extra?: number };
}

const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);
const umod = (v: number, n: number): number => (v >>> 0) % n;
/** A 3-bit register field's register: x8..x15 / f8..f15. */
const c3 = (r: number): number => 8 + (r & 7);
const nz = (r: number, alt = 10): number => (r === 0 ? alt : r);

const BY_MNEMONIC = new Map<string, Pattern>();
for (const p of POOL) if (!BY_MNEMONIC.has(p.mnemonic)) BY_MNEMONIC.set(p.mnemonic, p);
/** A pool pattern by mnemonic (the RV64 one). */
export function poolPattern(mnemonic: string): Pattern {
  const p = BY_MNEMONIC.get(mnemonic);
  if (!p) throw new Error(`difftest gen: ${mnemonic} is not in the pool`);
  return p;
}

const FP_X_DEST = /^(fcvt_(w|wu|l|lu)_[sd]|feq_[sd]|flt_[sd]|fle_[sd]|fclass_[sd]|fmv_x_[wd])$/;

/** The x register an instruction writes, if any. */
function xDest(p: Pending): number | null {
  const k = kindOf(p.p);
  if (p.p === ILLEGAL || k === 'store' || k === 'branch' || k === 'fence') return null;
  if (k === 'load' && p.p.name.startsWith('f')) return null;
  if (k === 'fp' && !FP_X_DEST.test(p.p.name)) return null;
  const rd = p.args.rd;
  return rd === undefined || rd === 0 ? null : rd;
}

const accessSize = (name: string): number => {
  const base = name.replace(/^(c_|f)/, '').replace(/sp$/, '');
  if (/^(l|s)bu?$/.test(base)) return 1;
  if (/^(l|s)hu?$/.test(base)) return 2;
  if (/^(l|s)wu?$/.test(base) || base === 'lw' || base === 'sw') return 4;
  return 8;
};

class Legalizer {
  /** Pointer registers not written so far (in program order), with their values. */
  readonly ptr = new Map(POINTERS);
  /** The reservation of the last LR, while no store, AMO or SC came after it. */
  res: { addr: bigint; width: 4 | 8 } | null = null;
  /** Every address an LR of the block used (a bare SC avoids them). */
  readonly lrAddrs = new Set<bigint>();
  readonly items: Pending[][] = [];

  constructor(readonly nItems: number, readonly wildPercent: number) {}

  /** A data-area address aligned to `size`, from a raw value. */
  addr(raw: number, size: number): bigint {
    return DATA_BASE + BigInt(Math.floor(umod(raw, DATA_SIZE) / size) * size);
  }

  /** A valid pointer register from `allowed` (by selector), or null. */
  base(sel: number, allowed?: (r: number) => boolean): [number, bigint] | null {
    const c = [...this.ptr].filter(([r]) => !allowed || allowed(r));
    return c.length === 0 ? null : c[umod(sel, c.length)]!;
  }

  target(item: number, sel: number): number {
    return Math.min(item + 1 + umod(sel, 4), this.nItems);
  }

  /** Legal instructions for one raw item (never empty: falls back to an addi). */
  item(raw: RawItem, index: number): Pending[] {
    const p = POOL[umod(raw.op, POOL.length)]!;
    const gen = raw.wild >= 100 - this.wildPercent ? wildEncoding(p, raw) : this.gen(p, raw, index);
    const out = gen ?? [{ p: poolPattern('addi'), args: { rd: raw.r[0], rs1: raw.r[1], imm: sext(raw.imm, 12) } }];
    for (const q of out) {
      const d = xDest(q);
      if (d !== null) this.ptr.delete(d);
      const k = kindOf(q.p);
      if (k === 'store' || k === 'amo' || k === 'sc') this.res = null;
    }
    return out;
  }

  private gen(p: Pattern, raw: RawItem, index: number): Pending[] | null {
    const [r0, r1, r2, r3] = raw.r;
    const { imm, sel } = raw;
    const m = p.mnemonic;
    const one = (args: Args): Pending[] => [{ p, args }];
    switch (kindOf(p)) {
      case 'alu': return this.alu(p, raw);
      case 'fp': {
        const rm = RMS[umod(sel, RMS.length)]!;
        switch (p.format.name) {
          case 'r_rm': return one({ rd: r0, rs1: r1, rs2: r2, rm });
          case 'r2_rm': return one({ rd: r0, rs1: r1, rm });
          case 'r4_rm': return one({ rd: r0, rs1: r1, rs2: r2, rs3: r3, rm });
          case 'r': return one({ rd: r0, rs1: r1, rs2: r2 });
          case 'r2': return one({ rd: r0, rs1: r1 });
        }
        throw new Error(`difftest gen: no operands for ${m} (format ${p.format.name})`);
      }
      case 'load':
      case 'store': return this.mem(p, raw);
      case 'amo':
      case 'lr':
      case 'sc': return this.atomic(p, raw);
      case 'branch': {
        const t = { item: this.target(index, sel), from: 'insn' as const, arg: 'imm' };
        if (m.startsWith('c.')) return [{ p, args: { rs1: c3(r0), rs2: 0 }, target: t }];
        return [{ p, args: { rs1: r0, rs2: r1 }, target: t }];
      }
      case 'jal': {
        const t = { item: this.target(index, sel), from: 'insn' as const, arg: 'imm' };
        if (m === 'c.j') return [{ p, args: { rd: 0 }, target: t }];
        return [{ p, args: { rd: r0 }, target: t }];
      }
      case 'jalr': {
        // auipc t, 0 makes the target known: jalr rd, off(t) / addi t, t, off; c.jr t / c.jalr t.
        const tmp = nz(r3, 5);
        const auipc: Pending = { p: poolPattern('auipc'), args: { rd: tmp, imm: 0 } };
        const item = this.target(index, sel);
        if (m === 'jalr') {
          // bit 0 of the sum is ignored by jalr: set it sometimes
          return [auipc, { p, args: { rd: r0, rs1: tmp }, target: { item, from: 'item', arg: 'imm', extra: (sel >> 8) & 1 } }];
        }
        const addi: Pending = { p: poolPattern('addi'), args: { rd: tmp, rs1: tmp }, target: { item, from: 'item', arg: 'imm' } };
        return [auipc, addi, { p, args: m === 'c.jr' ? { rd: 0, rs1: tmp, imm: 0 } : { rd: 1, rs1: tmp, imm: 0 } }];
      }
      case 'csr': return this.csr(p, raw);
      case 'fence': {
        if ((sel & 0xf) === 0) return one({ fm: 8, pred: 3, succ: 3, rs1: 0, rd: 0 }); // fence.tso
        return one({ fm: 0, pred: 1 + umod(sel >> 4, 15), succ: 1 + umod(sel >> 8, 15), rs1: 0, rd: 0 });
      }
      case 'ctzw': {
        // QEMU 7.2 bug: ctzw of a value whose low 32 bits are zero returns 63 (the spec says 32; fixed
        // in QEMU 8.0). bseti puts a bit in the low word first, so ctzw never sees that case.
        const tmp = nz(r3, 5);
        return [
          { p: poolPattern('bseti'), args: { rd: tmp, rs1: r1, shamt: umod(sel, 32) } },
          { p, args: { rd: r0, rs1: tmp } },
        ];
      }
    }
  }

  private alu(p: Pattern, raw: RawItem): Pending[] | null {
    const [r0, r1, r2] = raw.r;
    const { imm, sel } = raw;
    const one = (args: Args): Pending[] => [{ p, args }];
    const imm6 = sext(imm, 6);
    switch (p.mnemonic) {
      // compressed: the argument sets are the 32-bit expansion's; keep out of reserved encodings and
      // out of encodings that decode as another instruction (c.mv rs2=0 is c.jr, c.lui rd=2 is c.addi16sp…)
      case 'c.addi4spn': return one({ rd: c3(r0), rs1: 2, imm: 4 * (1 + umod(imm, 255)) });
      case 'c.addi': return one({ rd: r0, rs1: r0, imm: imm6 });
      case 'c.addiw': return one({ rd: nz(r0), rs1: nz(r0), imm: imm6 });
      case 'c.li': return one({ rd: r0, rs1: 0, imm: imm6 });
      case 'c.addi16sp': return one({ rd: 2, rs1: 2, imm: 16 * (imm6 === 0 ? 1 : imm6) });
      case 'c.lui': {
        const rd = r0 === 2 ? 10 : r0;
        return one({ rd, imm: 4096 * (imm6 === 0 ? 1 : imm6) });
      }
      case 'c.srli':
      case 'c.srai': return one({ rd: c3(r0), rs1: c3(r0), shamt: imm & 63 });
      case 'c.andi': return one({ rd: c3(r0), rs1: c3(r0), imm: imm6 });
      case 'c.sub': case 'c.xor': case 'c.or': case 'c.and': case 'c.subw': case 'c.addw':
        return one({ rd: c3(r0), rs1: c3(r0), rs2: c3(r1) });
      case 'c.slli': return one({ rd: r0, rs1: r0, shamt: imm & 63 });
      case 'c.mv': return one({ rd: r0, rs1: nz(r1), imm: 0 });
      case 'c.add': return one({ rd: r0, rs1: r0, rs2: nz(r1) });
    }
    if (p.size === 2) throw new Error(`difftest gen: no operands for ${p.mnemonic}`);
    switch (p.format.name) {
      case 'r': return one({ rd: r0, rs1: r1, rs2: r2 });
      case 'r2': return one({ rd: r0, rs1: r1 });
      case 'i': return one({ rd: r0, rs1: r1, imm: sext(imm, 12) });
      case 'u': return one({ rd: r0, imm: sext(imm, 20) * 4096 });
      case 'shift': {
        try {
          encodeArgs(p, { rd: r0, rs1: r1, shamt: imm & 63 });
          return one({ rd: r0, rs1: r1, shamt: imm & 63 });
        } catch (e) {
          if (!(e instanceof EncodeError)) throw e;
          return one({ rd: r0, rs1: r1, shamt: imm & 31 }); // the *w shifts take 5 bits
        }
      }
    }
    void sel;
    throw new Error(`difftest gen: no operands for ${p.mnemonic} (format ${p.format.name})`);
  }

  private mem(p: Pattern, raw: RawItem): Pending[] | null {
    const [r0, r1] = raw.r;
    const { imm, sel } = raw;
    const size = accessSize(p.name);
    const isLoad = kindOf(p) === 'load';
    const m = p.mnemonic;
    const mode = (sel >> 12) & 15; // 0: unmapped address (fault), 1: misaligned, else aligned
    if (mode === 0 && !m.endsWith('sp')) {
      const tmp = m.startsWith('c.') ? c3(raw.r[3]) : nz(raw.r[3], 5);
      const lui: Pending = { p: poolPattern('lui'), args: { rd: tmp, imm: UNMAPPED } };
      const args = { ...(isLoad ? { rd: m.startsWith('c.') ? c3(r0) : r0 } : { rs2: m.startsWith('c.') ? c3(r1) : r1 }), rs1: tmp, imm: 0 };
      return [lui, { p, args }];
    }
    if (!m.startsWith('c.')) {
      const b = this.base(sel);
      if (!b) return null;
      let a = this.addr(imm, size);
      if (mode === 1 && size > 1) a = this.addr(imm, 1) - (this.addr(imm, 1) + BigInt(size) > DATA_BASE + BigInt(DATA_SIZE) ? BigInt(size) : 0n);
      const off = Number(a - b[1]);
      return [{ p, args: isLoad ? { rd: r0, rs1: b[0], imm: off } : { rs1: b[0], rs2: r1, imm: off } }];
    }
    const sp = m.endsWith('sp');
    const b = this.base(sel, sp ? (r) => r === 2 : (r) => r >= 8 && r <= 15);
    if (!b) return null;
    const max = size === 8 ? 248 : 124; // c.lw/c.ld: 5-bit scaled offset
    const maxSp = size === 8 ? 504 : 252; // c.lwsp/c.ldsp: 6-bit scaled offset
    const room = Number(DATA_BASE + BigInt(DATA_SIZE) - b[1]) - size;
    const hi = Math.min(sp ? maxSp : max, room);
    const off = size * umod(imm, Math.floor(hi / size) + 1);
    const fp = p.name.startsWith('f');
    // c.lwsp/c.ldsp with rd = x0 are reserved; compressed 3-bit fields name x8..x15 / f8..f15
    const rd = sp ? (fp ? r0 : nz(r0)) : c3(r0);
    const rs2 = sp ? r1 : c3(r1);
    return [{ p, args: isLoad ? { rd, rs1: b[0], imm: off } : { rs1: b[0], rs2, imm: off } }];
  }

  private atomic(p: Pattern, raw: RawItem): Pending[] | null {
    const [r0, r1, , r3] = raw.r;
    const { imm, sel } = raw;
    const width = p.name.endsWith('_d') ? 8 : 4;
    const b = this.base(sel);
    if (!b) return null;
    const tmp = nz(r3, 5);
    const aq = (sel >> 4) & 1, rl = (sel >> 5) & 1;
    const at = (addr: bigint): Pending => ({ p: poolPattern('addi'), args: { rd: tmp, rs1: b[0], imm: Number(addr - b[1]) } });
    const kind = kindOf(p);
    // 0: unmapped address, 1: misaligned, else aligned. A misaligned SC is not generated: with no
    // matching reservation QEMU (7.2 and later, trans_rva.c.inc gen_sc) fails it without the alignment
    // check, where softboard, as the spec says for LR/SC, raises store/AMO-address-misaligned.
    let mode = (sel >> 12) & 15;
    if (mode === 1 && kind === 'sc') mode = 0;
    if (mode <= 1) {
      // a faulting atomic: no reservation is made, memory is not touched
      const addr = mode === 0 ? BigInt(UNMAPPED) : this.addr(imm, width) + BigInt(1 + umod(sel >> 7, width - 1));
      const setup: Pending = mode === 0 ? { p: poolPattern('lui'), args: { rd: tmp, imm: UNMAPPED } } : at(addr);
      return [setup, { p, args: { rd: r0, rs1: tmp, rs2: kind === 'lr' ? 0 : r1, aq, rl } }];
    }
    if (kind === 'amo') return [at(this.addr(imm, width)), { p, args: { rd: r0, rs1: tmp, rs2: r1, aq, rl } }];
    if (kind === 'lr') {
      const a = this.addr(imm, width);
      return this.lr(p, a, width, r0, tmp, aq, rl, at);
    }
    // SC: to the live reservation (same width), else either a bare SC that must fail or an LR/SC pair
    const res = this.res;
    if (res && res.width === width) return [at(res.addr), { p, args: { rd: r0, rs1: tmp, rs2: r1, aq, rl } }];
    if ((sel >> 6) & 1) {
      let a = this.addr(imm, width);
      for (let k = 0; this.lrAddrs.has(a) && k < DATA_SIZE; k += width) a = this.addr(imm + k + width, width);
      if (this.lrAddrs.has(a)) return null;
      return [at(a), { p, args: { rd: r0, rs1: tmp, rs2: r1, aq, rl } }];
    }
    const a = this.addr(imm, width);
    const lr = this.lr(poolPattern(width === 8 ? 'lr.d' : 'lr.w'), a, width, raw.r[2], tmp, aq, rl, at);
    return [...lr, { p, args: { rd: r0, rs1: tmp, rs2: r1, aq, rl } }];
  }

  private lr(p: Pattern, a: bigint, width: 4 | 8, rd: number, tmp: number, aq: number, rl: number, at: (a: bigint) => Pending): Pending[] {
    this.res = { addr: a, width };
    this.lrAddrs.add(a);
    // an LR whose rd is its own address register loses the address the SC needs: use another rd
    const d = rd === tmp ? nz((rd + 1) & 31) : rd;
    return [at(a), { p, args: { rd: d, rs1: tmp, rs2: 0, aq, rl } }];
  }

  private csr(p: Pattern, raw: RawItem): Pending[] {
    const [r0, r1] = raw.r;
    const { imm, sel } = raw;
    const csr = 1 + umod(sel, 3); // fflags, frm, fcsr
    const name = p.name;
    const u5 = imm & 31;
    const mk = (n: string, src: number): Pending[] => [{ p: poolPattern(n), args: { rd: r0, rs1: src, csr } }];
    if (csr === 1) return mk(p.mnemonic, p.name.endsWith('i') ? u5 : r1); // fflags: any write is valid
    // frm and fcsr: writes must leave frm in 0..4 (5..7 make dynamic-rm instructions trap)
    switch (name) {
      case 'csrrwi': return mk('csrrwi', csr === 2 ? umod(u5, 5) : u5); // fcsr: the 5-bit uimm leaves frm 0
      case 'csrrci': return mk('csrrci', u5); // clearing bits of 0..4 stays in 0..4
      case 'csrrc': return mk('csrrc', r1);
      case 'csrrsi': return csr === 3 ? mk('csrrsi', u5) : mk('csrrsi', 0); // fcsr: uimm only sets flags
      default: return mk(name, 0); // csrrw/csrrs with a register: read (csrrw frm, x0 writes 0: valid)
    }
  }

  /** Lays the items out from {@link BLOCK_PC}, resolves offsets and encodes. */
  finish(): Insn[] {
    const starts: number[] = [];
    let pc = 0;
    for (const it of this.items) {
      starts.push(pc);
      for (const q of it) pc += q.wild?.size ?? q.p.size;
    }
    starts.push(pc);
    const out: Insn[] = [];
    pc = 0;
    this.items.forEach((it, i) => {
      for (const q of it) {
        if (q.wild) {
          out.push(q.wild);
          pc += q.wild.size;
          continue;
        }
        let args = q.args;
        if (q.target) {
          const from = q.target.from === 'insn' ? pc : starts[i]!;
          args = { ...args, [q.target.arg]: starts[q.target.item]! - from + (q.target.extra ?? 0) };
        }
        out.push(encodeChecked(q.p, args, BLOCK_PC + BigInt(pc)));
        pc += q.p.size;
      }
    });
    return out;
  }
}

/** Stands for an encoding softboard's decoder rejects (a wild item). */
const ILLEGAL: Pattern = { ...poolPattern('addi'), name: 'illegal', mnemonic: '(illegal)' };

/** Kinds a wild encoding may decode to: nothing that reaches memory, jumps, CSRs or privileged state. */
const WILD_SAFE: ReadonlySet<Kind> = new Set(['alu', 'fp', 'fence']);

/**
 * A wild encoding from raw choices (see the module comment), or null when softboard decodes it as
 * something the block cannot run safely (a load from a random address, a jump, a CSR, ecall…).
 */
function wildEncoding(p: Pattern, raw: RawItem): Pending[] | null {
  const mode = raw.sel & 3;
  let bits: number, size: 2 | 4;
  if (mode === 0) {
    bits = (raw.imm | 3) >>> 0; size = 4; // any 32-bit word
  } else if (mode === 1) {
    bits = raw.imm & 0xffff; size = 2; // any 16-bit word
    if ((bits & 3) === 3) bits ^= 1;
  } else {
    // the pattern with random operand fields; mode 3 also flips one of its fixed bits
    size = p.size;
    const width = size * 8;
    bits = ((p.match | (raw.imm & ~p.mask)) >>> 0) & (width === 32 ? 0xffffffff : 0xffff);
    if (mode === 3) bits = (bits ^ (1 << (2 + umod(raw.sel >> 2, width - 2)))) >>> 0;
    bits >>>= 0;
  }
  const q = (size === 2 ? INSN16 : INSN32).decode(bits, RV64_ALL);
  const wild = { bits, size };
  if (!q || q.illegal) return [{ p: ILLEGAL, args: {}, wild }];
  // ctzw: the QEMU 7.2 bug below; the rest: see WILD_SAFE
  if (EXCLUDED.has(q.mnemonic) || q.name === 'ctzw' || !WILD_SAFE.has(kindOf(q))) return null;
  return [{ p: q, args: extractArgs(q, bits), wild }];
}

/**
 * Encodes and checks that softboard's decoder reads the same pattern and arguments back: a generator
 * bug (an encoding that decodes as another instruction) fails loudly instead of testing the wrong thing.
 */
function encodeChecked(p: Pattern, args: Args, pc: bigint): Insn {
  const bits = encodeArgs(p, args);
  const q = (p.size === 2 ? INSN16 : INSN32).decode(bits, RV64_ALL);
  const back = q ? extractArgs(q, bits) : null;
  if (q !== p || !back || Object.entries(args).some(([k, v]) => back[k] !== v)) {
    throw new Error(`difftest gen: ${p.mnemonic} ${JSON.stringify(args)} at 0x${pc.toString(16)} encodes as 0x${bits.toString(16)}, ` +
      `which decodes as ${q?.mnemonic ?? 'nothing'} ${JSON.stringify(back)}`);
  }
  return { bits, size: p.size };
}

/** Turns raw choices into a legal case (see the module comment). Deterministic. */
export function legalize(raw: RawCase, opts: CaseArbOptions = {}): DiffCase {
  const lg = new Legalizer(raw.items.length, opts.wildPercent ?? WILD_PERCENT);
  raw.items.forEach((it, i) => lg.items.push(lg.item(it, i)));
  const x = raw.x.map((v, i) => (i === 0 ? 0n : POINTERS.get(i) ?? v));
  return { x, f: [...raw.f], fcsr: raw.fcsr, data: raw.data, code: lg.finish() };
}
