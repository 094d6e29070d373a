/**
 * A small decodetree: instruction formats and patterns as data, matched by mask/value
 * (after QEMU scripts/decodetree.py and its `.decode` files).
 *
 * - A **field** is a concatenation of bit segments written as in decodetree, most significant first:
 *   `"12:s1 5:2 2:1 10:2 3:2"` (`pos:len`, `s` = sign-extend from that segment), then an optional
 *   left shift and a transform (`!function=` in decodetree).
 * - A **format** names the argument set an instruction decodes to: each argument is a field or a constant.
 * - A **pattern** is a bit string (`0`, `1`, `.`/`-` = don't care, spaces ignored) plus a format, the
 *   `trans_` name it calls, the extension that must be enabled and, where RV32/RV64 differ, the XLEN.
 *
 * Lookup: patterns are bucketed by their fixed low bits (the major opcode), then scanned in table order;
 * the first whose mask matches, whose guard passes, and (during translation) whose `trans_` function
 * accepts it wins, like decodetree's overlapping groups `{ … }`.
 */

/** Decoded argument set: field name → value. Register numbers, immediates (already shifted/signed). */
export type Args = Record<string, number>;

/**
 * Extracts a field's value from the instruction bits. `insert` is the inverse (for the assembler used by
 * tests and tools): it returns `insn` with the field set to `value`, or throws {@link EncodeError} if the
 * value does not fit.
 */
export interface Extract {
  (insn: number): number;
  insert(insn: number, value: number): number;
}

/** A value that does not fit the field it is encoded into. */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/**
 * Builds a field extractor from a decodetree segment list (`"31:s1 7:1 25:6 8:4"`),
 * an extra left shift, and an optional transform applied last (with its inverse for encoding).
 */
export function field(spec: string, shift = 0, fn?: (v: number) => number, inv?: (v: number) => number): Extract {
  const segs = spec.trim().split(/\s+/).map((s) => {
    const m = /^(\d+):(s?)(\d+)$/.exec(s);
    if (!m) throw new Error(`decodetree: bad field segment "${s}" in "${spec}"`);
    return { pos: Number(m[1]), signed: m[2] === 's', len: Number(m[3]) };
  });
  const total = segs.reduce((n, s) => n + s.len, 0);
  const signed = segs[0]!.signed;
  const extract = (insn: number): number => {
    let v = 0;
    for (const s of segs) {
      let part = (insn >>> s.pos) & ((1 << s.len) - 1);
      if (s.signed && part >> (s.len - 1)) part -= 1 << s.len;
      v = v * (1 << s.len) + part;
    }
    v = shift ? v * 2 ** shift : v;
    return fn ? fn(v) : v;
  };
  extract.insert = (insn: number, value: number): number => {
    let v = BigInt(inv ? inv(value) : value);
    const unit = 1n << BigInt(shift);
    if (v % unit !== 0n) throw new EncodeError(`value ${value} is not a multiple of ${unit} (field ${spec})`);
    v /= unit;
    const lo = signed ? -(1n << BigInt(total - 1)) : 0n;
    const hi = signed ? (1n << BigInt(total - 1)) - 1n : (1n << BigInt(total)) - 1n;
    if (v < lo || v > hi) throw new EncodeError(`value ${value} does not fit field ${spec}${shift ? ` << ${shift}` : ''}`);
    v = BigInt.asUintN(total, v);
    let out = insn;
    for (let k = segs.length - 1; k >= 0; k--) {
      const s = segs[k]!;
      const part = Number(v & ((1n << BigInt(s.len)) - 1n));
      v >>= BigInt(s.len);
      out = ((out & ~(((1 << s.len) - 1) << s.pos)) | (part << s.pos)) >>> 0;
    }
    return out >>> 0;
  };
  return extract;
}

/** An instruction format: each argument either a field extractor or a constant. */
export interface Format {
  readonly name: string;
  readonly args: Readonly<Record<string, Extract | number>>;
}

/** Defines a format. */
export function format(name: string, args: Record<string, Extract | number>): Format {
  return { name, args };
}

/** ISA extensions a pattern can require (single letters as in misa, Z* by name). */
export type Ext = 'I' | 'M' | 'A' | 'F' | 'D' | 'C' | 'Zicsr' | 'Zifencei' | 'Zba' | 'Zbb' | 'Zbc' | 'Zbs' | 'S';

/** One instruction pattern. */
export interface Pattern {
  /** The `trans_<name>` that implements it (dots replaced by underscores: `fadd_s`). */
  readonly name: string;
  /** The assembler mnemonic (`c.addi`, `fadd.s`); defaults to `name` with `_` → `.`. */
  readonly mnemonic: string;
  readonly mask: number;
  readonly match: number;
  readonly format: Format;
  /** Extensions that must all be present. */
  readonly ext: readonly Ext[];
  /** Only valid for this XLEN (e.g. `ld` needs 64, `c.jal` needs 32). */
  readonly xlen?: 32 | 64;
  /** Instruction length in bytes (2 or 4). */
  readonly size: 2 | 4;
  /** Marks an encoding that is explicitly reserved/illegal (decodetree `illegal` patterns). */
  readonly illegal?: boolean;
}

/** Options of a pattern definition. */
export interface PatternOpts {
  ext?: Ext | readonly Ext[];
  xlen?: 32 | 64;
  mnemonic?: string;
  illegal?: boolean;
}

/** Parses a decodetree bit string into mask/match. */
export function parseBits(bits: string): { mask: number; match: number; size: 2 | 4 } {
  const s = bits.replace(/\s+/g, '');
  if (s.length !== 32 && s.length !== 16) throw new Error(`decodetree: pattern "${bits}" is ${s.length} bits`);
  let mask = 0, match = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s[s.length - 1 - k];
    if (c === '0' || c === '1') {
      mask |= 1 << k;
      if (c === '1') match |= 1 << k;
    } else if (c !== '.' && c !== '-') {
      throw new Error(`decodetree: bad character "${c}" in "${bits}"`);
    }
  }
  return { mask: mask >>> 0, match: match >>> 0, size: s.length === 32 ? 4 : 2 };
}

/** Defines a pattern. */
export function pat(name: string, bits: string, fmt: Format, opts: PatternOpts = {}): Pattern {
  const { mask, match, size } = parseBits(bits);
  const ext = opts.ext === undefined ? ['I' as const] : typeof opts.ext === 'string' ? [opts.ext] : opts.ext;
  const p: { -readonly [K in keyof Pattern]: Pattern[K] } = {
    name, mnemonic: opts.mnemonic ?? name.replace(/_/g, '.'), mask, match, format: fmt, ext, size,
  };
  if (opts.xlen !== undefined) p.xlen = opts.xlen;
  if (opts.illegal) p.illegal = true;
  return p;
}

/** Extracts a pattern's arguments. */
export function extractArgs(p: Pattern, insn: number): Args {
  const out: Args = {};
  const a = p.format.args;
  for (const k in a) {
    const f = a[k]!;
    out[k] = typeof f === 'number' ? f : f(insn);
  }
  return out;
}

/**
 * Encodes a pattern with the given arguments (the inverse of {@link extractArgs}); constant arguments
 * of the format must match. Used by the test assembler and tools.
 * @throws EncodeError if an argument is missing, out of range or contradicts a constant.
 */
export function encodeArgs(p: Pattern, args: Readonly<Args>): number {
  let insn = p.match >>> 0;
  const a = p.format.args;
  for (const k in a) {
    const f = a[k]!;
    const v = args[k];
    if (typeof f === 'number') {
      if (v !== undefined && v !== f) throw new EncodeError(`${p.mnemonic}: ${k} must be ${f}, got ${v}`);
      continue;
    }
    if (v === undefined) throw new EncodeError(`${p.mnemonic}: missing argument ${k}`);
    insn = f.insert(insn, v);
  }
  // An argument may share bits with the fixed pattern (e.g. rd = rs1 in compressed formats); reject
  // values that changed fixed bits.
  if (((insn & p.mask) >>> 0) !== p.match) throw new EncodeError(`${p.mnemonic}: arguments ${JSON.stringify(args)} clash with the fixed bits`);
  // Formats may bind one field to two arguments (compressed rd = rs1): both must agree.
  const back = extractArgs(p, insn);
  for (const k in args) {
    if (k in a && back[k] !== args[k]) throw new EncodeError(`${p.mnemonic}: cannot encode ${k}=${args[k]} (got ${back[k]})`);
  }
  return insn >>> 0;
}

/** Which patterns an environment accepts: enabled extensions and current XLEN. */
export interface DecodeEnv {
  readonly xlen: 32 | 64;
  hasExt(e: Ext): boolean;
}

/** True if `p` is available under `env`. */
export function patternEnabled(p: Pattern, env: DecodeEnv): boolean {
  if (p.xlen !== undefined && p.xlen !== env.xlen) return false;
  for (const e of p.ext) if (!env.hasExt(e)) return false;
  return true;
}

/**
 * A table of patterns bucketed by the bits under `bucketMask` (which every pattern must fix).
 * `candidates(insn)` returns the patterns (in table order) whose fixed bits match.
 */
export class DecodeTable {
  private readonly buckets = new Map<number, Pattern[]>();

  constructor(readonly patterns: readonly Pattern[], readonly bucketMask: number) {
    for (const p of patterns) {
      if ((p.mask & bucketMask) !== bucketMask) {
        throw new Error(`decodetree: pattern ${p.mnemonic} does not fix the bucket bits 0x${bucketMask.toString(16)}`);
      }
      const key = (p.match & bucketMask) >>> 0;
      let b = this.buckets.get(key);
      if (!b) this.buckets.set(key, (b = []));
      b.push(p);
    }
  }

  /** Patterns whose fixed bits match `insn`, in table order. */
  *candidates(insn: number): Generator<Pattern> {
    const b = this.buckets.get((insn & this.bucketMask) >>> 0);
    if (!b) return;
    for (const p of b) if (((insn & p.mask) >>> 0) === p.match) yield p;
  }

  /** First enabled pattern matching `insn`, or undefined (ignores `trans_` refusals). */
  decode(insn: number, env: DecodeEnv): Pattern | undefined {
    for (const p of this.candidates(insn)) if (patternEnabled(p, env)) return p;
    return undefined;
  }
}
