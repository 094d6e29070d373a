/**
 * RISC-V disassembler generated from the decode tables (insn32.decode.ts, insn16.decode.ts), printing
 * GNU objdump's syntax (binutils 2.40 `riscv-dis.c`, default options): ABI register names, the
 * pseudo-instructions objdump prefers (`li`, `mv`, `ret`, `j`, `beqz`, `csrr`, `fmv.s`…), compressed
 * instructions shown as their 32-bit expansions, branch targets as absolute hex addresses.
 * With `{ aliases: false }` it prints the canonical base instruction instead (`addi a0,zero,5`).
 */
import { extractArgs, type Args, type DecodeEnv, type Pattern } from './decodetree.js';
import { INSN16 } from './insn16.decode.js';
import { INSN32 } from './insn32.decode.js';
import { FREG_ABI_NAMES, XREG_ABI_NAMES } from './cpu-state.js';
import { disasCsrName as csrName } from './csr-names.js';

/** Disassembler options. */
export interface DisasOptions {
  /** Print pseudo-instructions and objdump's preferred aliases (default true). */
  readonly aliases?: boolean;
}

const ALL_EXT_64: DecodeEnv = { xlen: 64, hasExt: () => true };
const ALL_EXT_32: DecodeEnv = { xlen: 32, hasExt: () => true };

const x = (r: number | undefined): string => XREG_ABI_NAMES[r ?? 0] ?? `x${r}`;
const f = (r: number | undefined): string => FREG_ABI_NAMES[r ?? 0] ?? `f${r}`;
const hex = (v: number | bigint): string => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
const RM_NAMES = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'unknown', 'unknown', 'dyn'];

/** Length in bytes of the instruction whose first halfword is `lo` (2 or 4). */
export function insnLength(lo: number): 2 | 4 {
  return (lo & 3) === 3 ? 4 : 2;
}

/** Decodes without translating: the pattern and its arguments, or null for an unknown encoding. */
export function decodeInsn(insn: number, xlen: 32 | 64): { pattern: Pattern; args: Args } | null {
  const size = insnLength(insn & 0xffff);
  const bits = size === 2 ? insn & 0xffff : insn >>> 0;
  const p = (size === 2 ? INSN16 : INSN32).decode(bits, xlen === 64 ? ALL_EXT_64 : ALL_EXT_32);
  if (!p || p.illegal) return null;
  const args = extractArgs(p, bits);
  if (!valid(p, args)) return null;
  return { pattern: p, args };
}

/** Encodings the tables match but the instruction's trans function rejects (reserved values). */
function valid(p: Pattern, a: Args): boolean {
  // Exact conversions: objdump only accepts rm = 0 (binutils MASK_RM).
  if (p.name === 'fcvt_d_s' || p.name === 'fcvt_d_w' || p.name === 'fcvt_d_wu') return a.rm === 0;
  // objdump (like the spec's reserved-field rules for decoders that reject them) only accepts
  // fence with rd = rs1 = 0 and fm 0 (or fence.tso), and fence.i with every field zero.
  if (p.name === 'fence') return a.rd === 0 && a.rs1 === 0 && (a.fm === 0 || (a.fm === 8 && a.pred === 3 && a.succ === 3));
  if (p.name === 'fence_i') return a.rd === 0 && a.rs1 === 0 && a.imm === 0;
  return true;
}

/**
 * Disassembles one instruction (16-bit if its low two bits are not 11) at `pc`.
 * Unknown encodings print as objdump does: `.2byte 0x…` / `.4byte 0x…`.
 */
export function disassemble(insn: number, pc: bigint, xlen: 32 | 64, options: DisasOptions = {}): string {
  const size = insnLength(insn & 0xffff);
  if (size === 2 && (options.aliases ?? true)) {
    const h = compressedHint(insn & 0xffff);
    if (h !== null) return h;
  }
  const d = decodeInsn(insn, xlen);
  if (!d) return size === 2 ? `.2byte ${hex(insn & 0xffff)}` : `.4byte ${hex(insn >>> 0)}`;
  const mask = xlen === 32 ? 0xffffffffn : 0xffffffffffffffffn;
  const target = (imm: number): string => ((pc + BigInt(imm)) & mask).toString(16);
  const text = (options.aliases ?? true) ? alias(d.pattern, d.args, target, xlen) : null;
  return text ?? canonical(d.pattern.name, d.args, target);
}

function join(mn: string, ops: string[]): string {
  return ops.length ? `${mn} ${ops.join(',')}` : mn;
}

/**
 * objdump's spelling of compressed encodings that are hints (rd = x0, zero shift or immediate) or
 * reserved, where it does not print the 32-bit expansion; null for everything else.
 */
function compressedHint(h: number): string | null {
  if (h === 0) return 'unimp';
  const q = h & 3, f3 = h >>> 13, rd = (h >>> 7) & 31, rs2 = (h >>> 2) & 31;
  const b12 = (h >>> 12) & 1;
  const imm6 = b12 ? (rs2 | 0x20) - 64 : rs2;
  const sh6 = (b12 << 5) | rs2;
  if (q === 1) {
    if (f3 === 0 && rd === 0 && imm6 !== 0) return `c.nop ${imm6}`;
    if (f3 === 0 && rd !== 0 && imm6 === 0) return `add ${x(rd)},${x(rd)},0`;
    if (f3 === 2 && rd === 0) return `c.li zero,${imm6}`;
    if (f3 === 3 && rd === 2 && imm6 === 0) return 'add sp,sp,0';
    if (f3 === 3 && rd === 0 && imm6 !== 0) return `c.lui zero,${hex(imm6 & 0xfffff)}`;
    if (f3 === 4 && ((h >>> 10) & 3) < 2 && sh6 === 0) {
      return `c.${(h >>> 10) & 1 ? 'srai' : 'srli'}64 ${x(((h >>> 7) & 7) + 8)}`;
    }
  }
  if (q === 2) {
    if (f3 === 0 && sh6 === 0) return `c.slli64 ${x(rd)}`;
    if (f3 === 0 && rd === 0 && sh6 !== 0) return `c.slli zero,${hex(sh6)}`;
    if (f3 === 4 && b12 === 0 && rd === 0 && rs2 !== 0) return `c.mv zero,${x(rs2)}`;
    if (f3 === 4 && b12 === 1 && rd === 0 && rs2 !== 0) return `c.add zero,${x(rs2)}`;
  }
  return null;
}

/** The canonical form of a 32-bit instruction (what the tables name it). */
function canonical(name: string, a: Args, target: (imm: number) => string): string {
  const mn = name.replace(/_/g, '.');
  const mem = (reg: string, imm: number): string => `${reg},${imm}(${x(a.rs1)})`;
  switch (name) {
    case 'lui': case 'auipc': return join(mn, [x(a.rd), hex((a.imm! >>> 12) & 0xfffff)]);
    case 'jal': return join(mn, [x(a.rd), target(a.imm!)]);
    case 'jalr': return join(mn, [mem(x(a.rd), a.imm!)]);
    case 'beq': case 'bne': case 'blt': case 'bge': case 'bltu': case 'bgeu':
      return join(mn, [x(a.rs1), x(a.rs2), target(a.imm!)]);
    case 'lb': case 'lh': case 'lw': case 'ld': case 'lbu': case 'lhu': case 'lwu':
      return join(mn, [mem(x(a.rd), a.imm!)]);
    case 'flw': case 'fld': return join(mn, [mem(f(a.rd), a.imm!)]);
    case 'sb': case 'sh': case 'sw': case 'sd': return join(mn, [mem(x(a.rs2), a.imm!)]);
    case 'fsw': case 'fsd': return join(mn, [mem(f(a.rs2), a.imm!)]);
    case 'fence': return fence(a);
    case 'fence_i': case 'ecall': case 'ebreak': case 'sret': case 'mret': case 'wfi': return mn;
    case 'sfence_vma': return join(mn, [x(a.rs1), x(a.rs2)]);
    case 'csrrw': case 'csrrs': case 'csrrc': return join(mn, [x(a.rd), csrName(a.csr!), x(a.rs1)]);
    case 'csrrwi': case 'csrrsi': case 'csrrci': return join(mn, [x(a.rd), csrName(a.csr!), String(a.rs1)]);
    default: break;
  }
  if (name.startsWith('lr_')) return `${mn}${aqrl(a)} ${x(a.rd)},(${x(a.rs1)})`;
  if (name.startsWith('sc_') || name.startsWith('amo')) return `${mn}${aqrl(a)} ${x(a.rd)},${x(a.rs2)},(${x(a.rs1)})`;
  const fmt = INSN_FORMAT.get(name);
  if (fmt === 'fp') return fpCanonical(name, mn, a);
  if (a.shamt !== undefined) return join(mn, [x(a.rd), x(a.rs1), hex(a.shamt)]);
  if (a.imm !== undefined) return join(mn, [x(a.rd), x(a.rs1), String(a.imm)]);
  if (a.rs2 !== undefined) return join(mn, [x(a.rd), x(a.rs1), x(a.rs2)]);
  return join(mn, [x(a.rd), x(a.rs1)]);
}

const INSN_FORMAT = new Map<string, 'fp'>();
for (const p of INSN32.patterns) {
  if (/^f/.test(p.name) && p.name !== 'fence' && p.name !== 'fence_i') INSN_FORMAT.set(p.name, 'fp');
}

function aqrl(a: Args): string {
  return (a.aq ? '.aq' : '') + (a.rl ? 'rl' : '').replace(/^rl$/, a.aq ? 'rl' : '.rl');
}

function fence(a: Args): string {
  const set = (v: number): string => (v === 0 ? 'unknown' : ['i', 'o', 'r', 'w'].filter((_, k) => v & (8 >> k)).join(''));
  if (a.fm === 8 && a.pred === 3 && a.succ === 3) return 'fence.tso';
  if (a.pred === 15 && a.succ === 15) return 'fence';
  return `fence ${set(a.pred!)},${set(a.succ!)}`;
}

/** Which operands of an FP instruction are f registers: d = dest, s = sources. */
function fpCanonical(name: string, mn: string, a: Args): string {
  const rm = a.rm !== undefined && a.rm !== 7 ? [RM_NAMES[a.rm] ?? 'unknown'] : [];
  if (/^f(n?m(add|sub))_/.test(name)) return join(mn, [f(a.rd), f(a.rs1), f(a.rs2), f(a.rs3), ...rm]);
  if (/^f(add|sub|mul|div)_/.test(name)) return join(mn, [f(a.rd), f(a.rs1), f(a.rs2), ...rm]);
  if (/^fsqrt_/.test(name)) return join(mn, [f(a.rd), f(a.rs1), ...rm]);
  if (/^f(sgnjn?x?|min|max)_/.test(name)) return join(mn, [f(a.rd), f(a.rs1), f(a.rs2)]);
  if (/^f(eq|lt|le)_/.test(name)) return join(mn, [x(a.rd), f(a.rs1), f(a.rs2)]);
  if (/^fclass_/.test(name) || /^fmv_x_/.test(name)) return join(mn, [x(a.rd), f(a.rs1)]);
  if (/^fmv_[wd]_x$/.test(name)) return join(mn, [f(a.rd), x(a.rs1)]);
  // Conversions that are always exact take no rounding mode in objdump's syntax.
  const exact = name === 'fcvt_d_s' || name === 'fcvt_d_w' || name === 'fcvt_d_wu';
  const r = exact ? [] : rm;
  if (/^fcvt_(w|wu|l|lu)_[sd]$/.test(name)) return join(mn, [x(a.rd), f(a.rs1), ...r]);
  if (/^fcvt_[sd]_(w|wu|l|lu)$/.test(name)) return join(mn, [f(a.rd), x(a.rs1), ...r]);
  return join(mn, [f(a.rd), f(a.rs1), ...r]); // fcvt.s.d / fcvt.d.s
}

/** objdump's preferred spelling, or null to use the canonical form. */
function alias(p: Pattern, a: Args, target: (imm: number) => string, xlen: number): string | null {
  const rd = a.rd ?? 0, rs1 = a.rs1 ?? 0, rs2 = a.rs2 ?? 0, imm = a.imm ?? 0;
  switch (p.name) {
    case 'addi':
      if (rd === 0 && rs1 === 0 && imm === 0) return 'nop';
      if (rs1 === 0) return `li ${x(rd)},${imm}`;
      if (imm === 0) return `mv ${x(rd)},${x(rs1)}`;
      return `add ${x(rd)},${x(rs1)},${imm}`;
    case 'andi':
      if (imm === 255) return `zext.b ${x(rd)},${x(rs1)}`;
      return `and ${x(rd)},${x(rs1)},${imm}`;
    case 'ori': return `or ${x(rd)},${x(rs1)},${imm}`;
    case 'xori':
      if (imm === -1) return `not ${x(rd)},${x(rs1)}`;
      return `xor ${x(rd)},${x(rs1)},${imm}`;
    case 'sltiu': return imm === 1 ? `seqz ${x(rd)},${x(rs1)}` : null;
    case 'sltu': return rs1 === 0 ? `snez ${x(rd)},${x(rs2)}` : null;
    case 'slt':
      if (rs2 === 0) return `sltz ${x(rd)},${x(rs1)}`;
      if (rs1 === 0) return `sgtz ${x(rd)},${x(rs2)}`;
      return null;
    case 'sub': return rs1 === 0 ? `neg ${x(rd)},${x(rs2)}` : null;
    case 'subw': return rs1 === 0 ? `negw ${x(rd)},${x(rs2)}` : null;
    case 'addiw':
      if (imm === 0) return `sext.w ${x(rd)},${x(rs1)}`;
      return `addw ${x(rd)},${x(rs1)},${imm}`;
    case 'slli': case 'srli': case 'srai': case 'slliw': case 'srliw': case 'sraiw':
    case 'rori': case 'roriw': case 'bclri': case 'bseti': case 'binvi': case 'bexti':
      return `${p.name.replace(/i(w?)$/, '$1')} ${x(rd)},${x(rs1)},${hex(a.shamt!)}`;
    case 'add_uw': return rs2 === 0 ? `zext.w ${x(rd)},${x(rs1)}` : null;
    case 'jal':
      if (rd === 0) return `j ${target(imm)}`;
      if (rd === 1) return `jal ${target(imm)}`;
      return null;
    case 'jalr':
      if (rd === 0 && rs1 === 1 && imm === 0) return 'ret';
      if (rd === 0) return imm === 0 ? `jr ${x(rs1)}` : `jr ${imm}(${x(rs1)})`;
      if (rd === 1) return imm === 0 ? `jalr ${x(rs1)}` : `jalr ${imm}(${x(rs1)})`;
      return imm === 0 ? `jalr ${x(rd)},${x(rs1)}` : null;
    case 'beq': return rs2 === 0 ? `beqz ${x(rs1)},${target(imm)}` : null;
    case 'bne': return rs2 === 0 ? `bnez ${x(rs1)},${target(imm)}` : null;
    case 'bge':
      if (rs1 === 0) return `blez ${x(rs2)},${target(imm)}`;
      if (rs2 === 0) return `bgez ${x(rs1)},${target(imm)}`;
      return null;
    case 'blt':
      if (rs2 === 0) return `bltz ${x(rs1)},${target(imm)}`;
      if (rs1 === 0) return `bgtz ${x(rs2)},${target(imm)}`;
      return null;
    case 'csrrw': case 'csrrs': case 'csrrc': case 'csrrwi': case 'csrrsi': case 'csrrci':
      return csrAlias(p.name, a, xlen);
    case 'fsgnj_s': case 'fsgnj_d': case 'fsgnjn_s': case 'fsgnjn_d': case 'fsgnjx_s': case 'fsgnjx_d': {
      if (rs1 !== rs2) return null;
      const t = p.name.slice(-1);
      const op = p.name.startsWith('fsgnjn') ? 'fneg' : p.name.startsWith('fsgnjx') ? 'fabs' : 'fmv';
      return `${op}.${t} ${f(rd)},${f(rs1)}`;
    }
    case 'sfence_vma':
      if (rs1 === 0 && rs2 === 0) return 'sfence.vma';
      if (rs2 === 0) return `sfence.vma ${x(rs1)}`;
      return null;
    default:
      return null;
  }
}

const FP_CSR: Record<number, string> = { 1: 'flags', 2: 'rm', 3: 'csr' };
const COUNTERS: Record<number, string> = { 0xc00: 'cycle', 0xc01: 'time', 0xc02: 'instret' };

function csrAlias(name: string, a: Args, xlen: number): string | null {
  const rd = a.rd ?? 0, src = a.rs1 ?? 0, csr = a.csr!;
  const imm = name.endsWith('i');
  const s = imm ? String(src) : x(src);
  const base = name.replace(/i$/, '');
  const fp = FP_CSR[csr];
  if (base === 'csrrs' && src === 0 && !imm) {
    const c = COUNTERS[csr] ?? (xlen === 32 ? (COUNTERS[csr - 0x80] !== undefined ? `${COUNTERS[csr - 0x80]}h` : undefined) : undefined);
    if (c) return `rd${c} ${x(rd)}`;
    if (fp) return `fr${fp} ${x(rd)}`;
    return `csrr ${x(rd)},${csrName(csr)}`;
  }
  if (base === 'csrrw' && fp) {
    if (imm) return `fs${fp}i ${x(rd)},${s}`;
    return rd === 0 ? `fs${fp} ${s}` : `fs${fp} ${x(rd)},${s}`;
  }
  if (rd === 0) {
    const op = base === 'csrrw' ? 'csrw' : base === 'csrrs' ? 'csrs' : 'csrc';
    return `${op} ${csrName(csr)},${s}`;
  }
  return `${base} ${x(rd)},${csrName(csr)},${s}`;
}
