/**
 * The wasm binary encoder: LEB128 against the specification's examples and against an independent
 * decoder, and hand-built modules that the engine accepts and runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, Code, ModuleBuilder, Opc, ValType } from '../../src/tcg/backend/wasm/encoder.js';

/** Decodes a LEB128 (signed or not) from the start of `b`; returns the value and the bytes used. */
function decodeLeb(b: Uint8Array, signed: boolean): [bigint, number] {
  let v = 0n, shift = 0n, k = 0, byte: number;
  do {
    byte = b[k++]!;
    v |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  } while (byte & 0x80);
  if (signed && (byte & 0x40)) v -= 1n << shift;
  return [v, k];
}

describe('LEB128', () => {
  it('encodes the classic examples', () => {
    expect([...new ByteWriter().uleb(624485).finish()]).toEqual([0xe5, 0x8e, 0x26]);
    expect([...new ByteWriter().sleb32(-123456).finish()]).toEqual([0xc0, 0xbb, 0x78]);
    expect([...new ByteWriter().sleb32(64).finish()]).toEqual([0xc0, 0x00]);
    expect([...new ByteWriter().sleb32(-64).finish()]).toEqual([0x40]);
    expect([...new ByteWriter().sleb64(-(1n << 63n)).finish()]).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  });
  it('decodes back to the value (unsigned, signed 32, signed 64) in the fewest bytes', () => {
    fc.assert(fc.property(fc.nat({ max: 2 ** 32 - 1 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (u, s, b) => {
        const eu = new ByteWriter().uleb(u).finish();
        expect(decodeLeb(eu, false)).toEqual([BigInt(u), eu.length]);
        expect(eu.length).toBe(Math.max(1, Math.ceil(u.toString(2).length / 7)));
        const es = new ByteWriter().sleb32(s).finish();
        expect(decodeLeb(es, true)).toEqual([BigInt(s), es.length]);
        const eb = new ByteWriter().sleb64(b).finish();
        expect(decodeLeb(eb, true)).toEqual([b, eb.length]);
        const bits = (b < 0n ? ~b : b).toString(2).length + 1;
        expect(eb.length).toBe(Math.ceil(bits / 7));
      }));
  });
  it('patches reserved u32 slots as padded LEB128', () => {
    const w = new ByteWriter();
    const at = w.reserveU32();
    w.patchU32(at, 300);
    expect(decodeLeb(w.finish(), false)).toEqual([300n, 5]);
  });
});

describe('module builder', () => {
  it('builds a module with imports, a loop and i64 arithmetic that the engine runs', () => {
    // sum(n) = n + (n-1) + … + 1 computed in a loop, plus an imported JS function applied to the result
    const mb = new ModuleBuilder();
    const twice = mb.importFunc('m', 'twice', { params: [ValType.I64], results: [ValType.I64] });
    const c = new Code();
    const n = 0, acc = 1;
    c.block(Opc.BLOCK).block(Opc.LOOP)
      .localGet(n).op(Opc.I64_EQZ).brIf(1)
      .localGet(acc).localGet(n).op(Opc.I64_ADD).localSet(acc)
      .localGet(n).i64Const(1n).op(Opc.I64_SUB).localSet(n)
      .br(0).end().end()
      .localGet(acc).call(twice).end();
    const f = mb.addFunc({ params: [ValType.I64], results: [ValType.I64] }, { locals: [ValType.I64], code: c.w });
    mb.exportFunc('sum', f);
    const bytes = mb.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { m: { twice: (x: bigint) => 2n * x } });
    const sum = inst.exports['sum'] as (x: bigint) => bigint;
    for (const k of [0n, 1n, 10n, 1000n]) expect(sum(k)).toBe(k * (k + 1n));
  });
  it('imports a memory and a mutable global', () => {
    const mb = new ModuleBuilder();
    mb.importMemory('m', 'mem', 1);
    const g = mb.importGlobal('m', 'g', ValType.I32, true);
    const c = new Code();
    c.i32Const(8).globalGet(g).mem(Opc.I32_STORE, 2, 4).i32Const(12).mem(Opc.I32_LOAD, 2, 0).end();
    const f = mb.addFunc({ params: [], results: [ValType.I32] }, { locals: [], code: c.w });
    mb.exportFunc('f', f);
    const mem = new WebAssembly.Memory({ initial: 1 });
    const glob = new WebAssembly.Global({ value: 'i32', mutable: true }, 0x1234567);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { m: { mem, g: glob } });
    expect((inst.exports['f'] as () => number)()).toBe(0x1234567);
    expect(new DataView(mem.buffer).getUint32(12, true)).toBe(0x1234567);
  });
});
