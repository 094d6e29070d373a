import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { createJsBackend } from '../../src/tcg/backend/js.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { TcgContext } from '../../src/tcg/context.js';
import type { Opcode } from '../../src/tcg/ir.js';
import { diffOutcome, ENV_SIZE, MEM_SIZE, runOn } from './fake-rt.js';
import { makeGlobals } from './gen-ir.js';

// The closure and generated-JS backends' non-BigInt paths for 64-bit div/rem (32-bit divisors, 52-bit
// operands), mulu2/muls2/mulsu2 and rotates, checked against the reference interpreter on operands biased
// towards each path's edges.

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const sext32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => BigInt.asUintN(64, BigInt(v)));
const zext32 = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((v) => BigInt(v));
const edge = fc.constantFrom(0n, 1n, 2n, 3n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x8000000000000000n,
  0x7fffffffffffffffn, 0x80000000n, 0xffffffff80000000n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0xfffffffffffffn, 0x10000000000000n, 0xfff0000000000000n, 31n, 32n, 33n, 63n, 64n);
const below52 = fc.bigInt({ min: 0n, max: (1n << 52n) - 1n });
const signed52 = fc.bigInt({ min: -(1n << 52n), max: (1n << 52n) }).map((v) => BigInt.asUintN(64, v));
const operand = fc.oneof(u64, sext32, zext32, below52, signed52, edge);

const OPS: { opc: Opcode; outs: number }[] = [
  ...(['div_i64', 'divu_i64', 'rem_i64', 'remu_i64', 'rotl_i64', 'rotr_i64'] as const).map((opc) => ({ opc, outs: 1 })),
  ...(['mulu2_i64', 'muls2_i64', 'mulsu2_i64'] as const).map((opc) => ({ opc, outs: 2 })),
];

/** env with x1 = a, x2 = b (little-endian, offsets 0 and 8), the rest zero. */
function envWith(a: bigint, b: bigint): Uint8Array {
  const env = new Uint8Array(ENV_SIZE);
  const v = new DataView(env.buffer);
  v.setBigUint64(0, a, true);
  v.setBigUint64(8, b, true);
  return env;
}

const BACKENDS = [{ name: 'closure', backend: closureBackend }, { name: 'js', backend: createJsBackend() }];

describe.each(BACKENDS)('$name backend 64-bit div/rem, double-width multiplies and rotates', ({ backend }) => {
  for (const { opc, outs } of OPS) {
    for (const alias of [false, true]) {
      it(`${opc} matches the interpreter${alias ? ' (output overwrites an input)' : ''}`, () => {
        const { set, i64: [x1, x2, x3, x4] } = makeGlobals();
        const ctx = new TcgContext(set, 'i64');
        const o = outs === 1 ? [alias ? x2! : x3!] : alias ? [x2!, x1!] : [x3!, x4!];
        ctx.emit(opc, o, [x1!, x2!], []);
        ctx.exitTb(0);
        const fn = ctx.finish();
        const ref = interpreterBackend.compile(fn);
        const tb = backend.compile(fn);
        const mem = new Uint8Array(MEM_SIZE);
        fc.assert(fc.property(operand, operand, (a, b) => {
          const env = envWith(a, b);
          const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
          if (d) expect.fail(`${opc}(${a.toString(16)}, ${b.toString(16)}): ${d}`);
        }), { numRuns: 400 });
      });
    }
  }
});
