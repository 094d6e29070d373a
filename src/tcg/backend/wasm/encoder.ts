/**
 * A small WebAssembly binary encoder: LEB128, the instructions the TCG backend emits and a module
 * builder (type, import, function, export and code sections). No text format, no external tool:
 * the bytes go straight to `new WebAssembly.Module`. Encodings as the WebAssembly core specification
 * (binary format, chapter 5), plus the sign-extension and reference-types extensions that every
 * engine softboard supports (Node ≥ 20, current browsers) ships.
 */

/** Value types (spec 5.3.1); `externref` carries a JS object through wasm untouched. */
export const enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  EXTERNREF = 0x6f,
}

/** Block type "no result" (spec 5.4.1). */
export const BLOCK_VOID = 0x40;

/** Opcodes used by the backend (spec 5.4). */
export const enum Opc {
  UNREACHABLE = 0x00, NOP = 0x01, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b,
  BR = 0x0c, BR_IF = 0x0d, BR_TABLE = 0x0e, RETURN = 0x0f, CALL = 0x10,
  /** Tail calls (the tail-call extension, in V8 since 11.2 / Node 20). */
  RETURN_CALL = 0x12, RETURN_CALL_INDIRECT = 0x13,
  DROP = 0x1a, SELECT = 0x1b,
  LOCAL_GET = 0x20, LOCAL_SET = 0x21, LOCAL_TEE = 0x22, GLOBAL_GET = 0x23, GLOBAL_SET = 0x24,
  I32_LOAD = 0x28, I64_LOAD = 0x29,
  I32_LOAD8_S = 0x2c, I32_LOAD8_U = 0x2d, I32_LOAD16_S = 0x2e, I32_LOAD16_U = 0x2f,
  I64_LOAD8_S = 0x30, I64_LOAD8_U = 0x31, I64_LOAD16_S = 0x32, I64_LOAD16_U = 0x33,
  I64_LOAD32_S = 0x34, I64_LOAD32_U = 0x35,
  I32_STORE = 0x36, I64_STORE = 0x37, I32_STORE8 = 0x3a, I32_STORE16 = 0x3b,
  I64_STORE8 = 0x3c, I64_STORE16 = 0x3d, I64_STORE32 = 0x3e,
  I32_CONST = 0x41, I64_CONST = 0x42,
  I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, I32_LT_S = 0x48, I32_LT_U = 0x49, I32_GT_S = 0x4a,
  I32_GT_U = 0x4b, I32_LE_S = 0x4c, I32_LE_U = 0x4d, I32_GE_S = 0x4e, I32_GE_U = 0x4f,
  I64_EQZ = 0x50, I64_EQ = 0x51, I64_NE = 0x52, I64_LT_S = 0x53, I64_LT_U = 0x54, I64_GT_S = 0x55,
  I64_GT_U = 0x56, I64_LE_S = 0x57, I64_LE_U = 0x58, I64_GE_S = 0x59, I64_GE_U = 0x5a,
  I32_CLZ = 0x67, I32_CTZ = 0x68, I32_POPCNT = 0x69, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c,
  I32_DIV_S = 0x6d, I32_DIV_U = 0x6e, I32_REM_S = 0x6f, I32_REM_U = 0x70, I32_AND = 0x71, I32_OR = 0x72,
  I32_XOR = 0x73, I32_SHL = 0x74, I32_SHR_S = 0x75, I32_SHR_U = 0x76, I32_ROTL = 0x77, I32_ROTR = 0x78,
  I64_CLZ = 0x79, I64_CTZ = 0x7a, I64_POPCNT = 0x7b, I64_ADD = 0x7c, I64_SUB = 0x7d, I64_MUL = 0x7e,
  I64_DIV_S = 0x7f, I64_DIV_U = 0x80, I64_REM_S = 0x81, I64_REM_U = 0x82, I64_AND = 0x83, I64_OR = 0x84,
  I64_XOR = 0x85, I64_SHL = 0x86, I64_SHR_S = 0x87, I64_SHR_U = 0x88, I64_ROTL = 0x89, I64_ROTR = 0x8a,
  I32_WRAP_I64 = 0xa7, I64_EXTEND_I32_S = 0xac, I64_EXTEND_I32_U = 0xad,
  // sign-extension operators
  I32_EXTEND8_S = 0xc0, I32_EXTEND16_S = 0xc1, I64_EXTEND8_S = 0xc2, I64_EXTEND16_S = 0xc3,
  I64_EXTEND32_S = 0xc4,
}

/** A growable byte buffer with the primitive encodings (spec 5.1, 5.2). */
export class ByteWriter {
  private buf: Uint8Array<ArrayBuffer>;
  private len = 0;

  constructor(initialSize = 64) {
    this.buf = new Uint8Array(initialSize);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** One raw byte. */
  u8(b: number): this {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
    return this;
  }

  /** Raw bytes. */
  bytes(b: ArrayLike<number>): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  uleb(v: number): this {
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new RangeError(`uleb: ${v} is not a non-negative safe integer`);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of an int32 (values outside are taken modulo 2^32 as a signed int32). */
  sleb32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }

  /** Signed LEB128 of a 64-bit value (taken modulo 2^64 as a signed int64). */
  sleb64(v: bigint): this {
    v = BigInt.asIntN(64, v);
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.sleb32(Number(v));
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }

  /** A name: length-prefixed UTF-8; only ASCII is needed (and accepted) here. */
  name(s: string): this {
    this.uleb(s.length);
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c > 0x7f) throw new RangeError(`wasm encoder: non-ASCII name ${JSON.stringify(s)}`);
      this.u8(c);
    }
    return this;
  }

  /** Reserves 5 bytes for a u32 written later by {@link patchU32}; returns their position. */
  reserveU32(): number {
    const at = this.len;
    this.ensure(5);
    this.len += 5;
    return at;
  }

  /** Writes `v` at `at` as a 5-byte (padded) unsigned LEB128, which the spec allows for u32 (5.2.2). */
  patchU32(at: number, v: number): void {
    for (let k = 0; k < 4; k++) {
      this.buf[at + k] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at + 4] = v & 0x7f;
  }

  /** The bytes written so far (a view; copy before writing more). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.len);
  }
}

/** A function type: parameter and result value types. */
export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

function typeKey(t: FuncType): string {
  return `${t.params.join(',')}>${t.results.join(',')}`;
}

/** One function's code: its locals (beyond the parameters) and instruction bytes (ending with `end`). */
export interface FuncBody {
  readonly locals: readonly ValType[];
  readonly code: ByteWriter;
}

/** Kinds of import (spec 5.5.5). */
type ImportDesc =
  | { kind: 'func'; type: number }
  | { kind: 'memory'; min: number; max?: number | undefined; shared?: boolean }
  | { kind: 'table'; min: number }
  | { kind: 'global'; type: ValType; mutable: boolean };

/**
 * Builds one module. Function indexes: imported functions first (in `importFunc` order), then
 * defined functions (in `addFunc` order), as the index space of the spec (2.5.1).
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly typeIndex = new Map<string, number>();
  private readonly imports: { module: string; name: string; desc: ImportDesc }[] = [];
  private nbFuncImports = 0;
  private nbGlobalImports = 0;
  private readonly funcs: { type: number; body: FuncBody | null }[] = [];
  private readonly exports: { name: string; func: number }[] = [];

  /** The index of a function type, adding it if new. */
  type(t: FuncType): number {
    const k = typeKey(t);
    let i = this.typeIndex.get(k);
    if (i === undefined) {
      i = this.types.length;
      this.types.push(t);
      this.typeIndex.set(k, i);
    }
    return i;
  }

  /** Imports a function; returns its function index. Must precede {@link addFunc}. */
  importFunc(module: string, name: string, t: FuncType): number {
    if (this.funcs.length > 0) throw new Error('wasm encoder: function imports must precede defined functions');
    this.imports.push({ module, name, desc: { kind: 'func', type: this.type(t) } });
    return this.nbFuncImports++;
  }

  /** Imports a linear memory (memory index 0). */
  importMemory(module: string, name: string, minPages: number, maxPages?: number): void {
    this.imports.push({ module, name, desc: { kind: 'memory', min: minPages, max: maxPages } });
  }

  /** Imports a shared linear memory (memory index 0; threads extension: a maximum is required). */
  importSharedMemory(module: string, name: string, minPages: number, maxPages: number): void {
    this.imports.push({ module, name, desc: { kind: 'memory', min: minPages, max: maxPages, shared: true } });
  }

  /** Imports a `funcref` table (table index 0). */
  importTable(module: string, name: string, min: number): void {
    this.imports.push({ module, name, desc: { kind: 'table', min } });
  }

  /** Imports a global; returns its global index. */
  importGlobal(module: string, name: string, type: ValType, mutable: boolean): number {
    this.imports.push({ module, name, desc: { kind: 'global', type, mutable } });
    return this.nbGlobalImports++;
  }

  /** Declares a function of type `t`; its body is given now or later with {@link setBody}. */
  addFunc(t: FuncType, body: FuncBody | null = null): number {
    this.funcs.push({ type: this.type(t), body });
    return this.nbFuncImports + this.funcs.length - 1;
  }

  /** Sets the body of a function declared by {@link addFunc}. */
  setBody(funcIndex: number, body: FuncBody): void {
    const f = this.funcs[funcIndex - this.nbFuncImports];
    if (!f) throw new RangeError(`wasm encoder: no defined function ${funcIndex}`);
    f.body = body;
  }

  /** Exports a function under `name`. */
  exportFunc(name: string, func: number): void {
    this.exports.push({ name, func });
  }

  /** Encodes the module. */
  encode(): Uint8Array<ArrayBuffer> {
    let size = 64;
    for (const f of this.funcs) size += (f.body?.code.length ?? 0) + 16;
    const w = new ByteWriter(size);
    w.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

    // One writer for the whole module: section sizes are patched in as padded LEB128.
    const section = (id: number, fill: () => void): void => {
      w.u8(id);
      const at = w.reserveU32();
      fill();
      w.patchU32(at, w.length - at - 5);
    };

    section(1, () => {
      w.uleb(this.types.length);
      for (const t of this.types) {
        w.u8(0x60).uleb(t.params.length).bytes(t.params).uleb(t.results.length).bytes(t.results);
      }
    });
    if (this.imports.length > 0) {
      section(2, () => {
        w.uleb(this.imports.length);
        for (const im of this.imports) {
          w.name(im.module).name(im.name);
          const d = im.desc;
          if (d.kind === 'func') w.u8(0x00).uleb(d.type);
          else if (d.kind === 'table') w.u8(0x01).u8(0x70).u8(0x00).uleb(d.min);
          else if (d.kind === 'memory') {
            if (d.shared) w.u8(0x02).u8(0x03).uleb(d.min).uleb(d.max ?? d.min);
            else if (d.max === undefined) w.u8(0x02).u8(0x00).uleb(d.min);
            else w.u8(0x02).u8(0x01).uleb(d.min).uleb(d.max);
          } else w.u8(0x03).u8(d.type).u8(d.mutable ? 1 : 0);
        }
      });
    }
    section(3, () => {
      w.uleb(this.funcs.length);
      for (const f of this.funcs) w.uleb(f.type);
    });
    if (this.exports.length > 0) {
      section(7, () => {
        w.uleb(this.exports.length);
        for (const e of this.exports) w.name(e.name).u8(0x00).uleb(e.func);
      });
    }
    section(10, () => {
      w.uleb(this.funcs.length);
      for (const f of this.funcs) {
        if (!f.body) throw new Error('wasm encoder: function without a body');
        const at = w.reserveU32();
        // Locals as runs of one type (spec 5.5.13).
        const locals = f.body.locals;
        let runs = 0;
        for (let k = 0; k < locals.length; k++) if (k === 0 || locals[k] !== locals[k - 1]) runs++;
        w.uleb(runs);
        for (let k = 0; k < locals.length;) {
          let n = 1;
          while (k + n < locals.length && locals[k + n] === locals[k]) n++;
          w.uleb(n).u8(locals[k]!);
          k += n;
        }
        w.bytes(f.body.code.finish());
        w.patchU32(at, w.length - at - 5);
      }
    });
    return w.finish().slice();
  }
}

/**
 * Instruction emitter over a {@link ByteWriter}: one method per instruction shape, so code generation
 * reads like the wasm it produces.
 */
export class Code {
  readonly w = new ByteWriter(256);

  op(o: Opc): this {
    this.w.u8(o);
    return this;
  }
  i32Const(v: number): this {
    this.w.u8(Opc.I32_CONST).sleb32(v);
    return this;
  }
  i64Const(v: bigint): this {
    this.w.u8(Opc.I64_CONST).sleb64(v);
    return this;
  }
  localGet(i: number): this {
    this.w.u8(Opc.LOCAL_GET).uleb(i);
    return this;
  }
  localSet(i: number): this {
    this.w.u8(Opc.LOCAL_SET).uleb(i);
    return this;
  }
  localTee(i: number): this {
    this.w.u8(Opc.LOCAL_TEE).uleb(i);
    return this;
  }
  globalGet(i: number): this {
    this.w.u8(Opc.GLOBAL_GET).uleb(i);
    return this;
  }
  /** A load or store with its memarg: log2 alignment hint and constant offset. */
  mem(o: Opc, alignLog2: number, offset: number): this {
    this.w.u8(o).uleb(alignLog2).uleb(offset);
    return this;
  }
  call(func: number): this {
    this.w.u8(Opc.CALL).uleb(func);
    return this;
  }
  /** `return_call` of function `func`. */
  returnCall(func: number): this {
    this.w.u8(Opc.RETURN_CALL).uleb(func);
    return this;
  }
  /** `return_call_indirect` of type index `type` through table 0. */
  returnCallIndirect(type: number): this {
    this.w.u8(Opc.RETURN_CALL_INDIRECT).uleb(type).u8(0);
    return this;
  }
  /** `block`, `loop` or `if` with a block type (BLOCK_VOID or a value type). */
  block(o: Opc.BLOCK | Opc.LOOP | Opc.IF, type: number = BLOCK_VOID): this {
    this.w.u8(o).u8(type);
    return this;
  }
  end(): this {
    this.w.u8(Opc.END);
    return this;
  }
  br(depth: number): this {
    this.w.u8(Opc.BR).uleb(depth);
    return this;
  }
  brIf(depth: number): this {
    this.w.u8(Opc.BR_IF).uleb(depth);
    return this;
  }
  brTable(depths: readonly number[], dflt: number): this {
    this.w.u8(Opc.BR_TABLE).uleb(depths.length);
    for (const d of depths) this.w.uleb(d);
    this.w.uleb(dflt);
    return this;
  }
}
