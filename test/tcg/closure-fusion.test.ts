import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { TcgContext, type IrFunction } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { Cond, MO_SIGN, type HelperInfo, type Opcode, type TcgType, type Temp } from '../../src/tcg/ir.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { diffOutcome, ENV_SIZE, MEM_BASE, MEM_SIZE, randomBytes, runOn, type FakeCpu } from './fake-rt.js';
import { makeGlobals } from './gen-ir.js';

// The closure backend runs ops on globals and constants as records of its threaded code
// (src/tcg/backend/closure-code.ts) and the rest as closures; it compiles some op pairs as one record or
// closure (a producer into a temp read only by the next op: `op t; ext32s_i64 d, t` and
// `add t, x, const; qemu_ld/st [t]`), folds the pc stores of goto_tb exits into the exit, and folds a
// brcond whose two targets are such exits into one record. These programs are made of the RISC-V idioms
// that hit those paths (on globals, so as records, and on temps, so as closures), with variations that
// must defeat them (the temp read again, a label between the pair, the output overwriting an input), and
// are checked against the reference interpreter.

const CONDS = [Cond.NEVER, Cond.ALWAYS, Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LE, Cond.GT,
  Cond.LTU, Cond.GEU, Cond.LEU, Cond.GTU];
const VALUES = [0n, 1n, 2n, 31n, 32n, 63n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0xffffffff80000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];

interface Idiom {
  kind: number;
  a: number;
  b: number;
  c: number;
  v: bigint;
}

const idiomArb: fc.Arbitrary<Idiom> = fc.record({
  kind: fc.nat(), a: fc.nat(), b: fc.nat(), c: fc.nat(),
  v: fc.oneof(fc.constantFrom(...VALUES), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
});

/** Builds a TB from idioms; `x4` plays the pc. */
function build(idioms: readonly Idiom[], addrType: TcgType, padTo: number): IrFunction {
  const { set, i64: g64, i32: g32 } = makeGlobals();
  const ctx = new TcgContext(set, addrType);
  const pcG = g64[3]!;
  const regs = g64.slice(0, 3);
  let pc = 0x80000000n;
  const reg = (n: number): Temp => regs[n % regs.length]!;
  const c64 = (v: bigint): Temp => ctx.const('i64', v);
  const at = addrType;
  /** Forward labels not yet placed (each idiom may place one). */
  const pending: ReturnType<TcgContext['newLabel']>[] = [];
  let ended = false;

  const exitWithPc = (slot: 0 | 1, target: bigint): void => {
    ctx.gotoTb(slot);
    ctx.emit('mov_i64', [pcG], [c64(target)]);
    ctx.exitTb(slot + 1);
  };

  for (const s of idioms) {
    ctx.insnStart(pc);
    pc += 4n;
    switch (s.kind % 10) {
      case 0: { // RV64 addw/subw/mulw/slliw: op into a temp, then ext32s
        const t = ctx.tempI64();
        const opc = (['add_i64', 'sub_i64', 'mul_i64', 'shl_i64'] as const)[s.a % 4]!;
        const b = opc === 'shl_i64' ? c64(BigInt(s.c % 64)) : s.c % 2 ? c64(s.v) : reg(s.c >> 1);
        ctx.emit(opc, [t], [reg(s.b), b]);
        if (s.a % 7 === 5) ctx.setLabel(ctx.newLabel()); // a label between: no fusion
        ctx.emit('ext32s_i64', [(s.b >> 3) % 2 ? reg(s.b >> 4) : t], [t]);
        if (s.a % 11 === 3) ctx.emit('xor_i64', [reg(s.a)], [reg(s.a), t]); // t read again: no fusion
        break;
      }
      case 1: case 2: { // load/store at register + offset (in the fake RAM, or just outside it)
        // The base in a temp, or in a register (a global: the threaded code's load and store records).
        const base = at === 'i64' && (s.c >> 4) % 2 ? reg(s.b) : ctx.temp(at);
        ctx.emit(`and_${at}` as Opcode, [base], [at === 'i64' ? reg(s.b) : g32[s.b % 2]!, ctx.const(at, MEM_SIZE - 1)]);
        ctx.emit(`add_${at}` as Opcode, [base], [base, ctx.const(at, s.c % 16 === 0 ? 0xffff0000 : MEM_BASE)]);
        let ea = base;
        if (s.v % 3n !== 0n) { // else the access at the base itself
          ea = ctx.temp(at);
          ctx.emit(`add_${at}` as Opcode, [ea], [base, ctx.const(at, BigInt.asIntN(12, s.v))]);
        }
        const size = s.a % 4;
        const type: TcgType = s.a % 5 === 4 && size < 3 ? 'i32' : 'i64';
        if (s.kind % 10 === 1) {
          const d = type === 'i64' ? reg(s.a >> 3) : g32[(s.a >> 3) % 2]!;
          ctx.qemuLd(d, ea, 0, size | ((s.a >> 5) % 2 ? MO_SIGN : 0));
        } else {
          const v = type === 'i64' ? reg(s.a >> 3) : g32[(s.a >> 3) % 2]!;
          ctx.qemuSt(v, ea, 0, size);
        }
        break;
      }
      case 3: { // plain ALU on registers
        const opc = (['add_i64', 'xor_i64', 'shr_i64', 'shl_i64', 'and_i64', 'mov_i64', 'sub_i64', 'or_i64', 'sar_i64',
          'mul_i64', 'ext32s_i64', 'ext32u_i64'] as const)[s.a % 12]!;
        if (opc === 'mov_i64') ctx.emit(opc, [reg(s.b)], [s.c % 2 ? c64(s.v) : reg(s.c)]);
        else if (opc === 'ext32s_i64' || opc === 'ext32u_i64') ctx.emit(opc, [reg(s.b)], [reg(s.c)]);
        else ctx.emit(opc, [reg(s.b)], [reg(s.b >> 2), s.c % 2 ? c64(opc[1] === 'h' || opc[1] === 'a' ? s.v % 64n : s.v) : reg(s.c)]);
        break;
      }
      case 4: { // conditional branch ending the TB (RISC-V beq & co.)
        const l = ctx.newLabel();
        if (s.b % 3 === 1) { // an i32 comparison (RV32)
          ctx.brcond(CONDS[s.a % CONDS.length]!, g32[0]!, s.c % 2 ? ctx.const('i32', s.v & 0xffffffffn) : g32[1]!, l);
        } else {
          ctx.brcond(CONDS[s.a % CONDS.length]!, reg(s.b), s.c % 2 ? c64(s.v) : reg(s.c >> 1), l);
        }
        if (s.b % 5 === 0) ctx.emit('mov_i64', [reg(s.a)], [c64(s.v)]); // extra work: not a plain pc exit
        exitWithPc(1, pc);
        ctx.setLabel(l);
        exitWithPc(0, pc + BigInt(s.c % 64) * 2n);
        ended = true;
        break;
      }
      case 5: { // forward branch over the next idioms
        const l = ctx.newLabel();
        ctx.brcond(CONDS[s.a % CONDS.length]!, reg(s.b), s.c % 2 ? c64(s.v) : reg(s.c >> 1), l);
        pending.push(l);
        break;
      }
      case 6: { // place a pending label
        const l = pending.shift();
        if (l) ctx.setLabel(l);
        break;
      }
      case 7: { // a short backward loop: w2 counts down from 1..4
        const w = g32[1]!, l = ctx.newLabel();
        ctx.emit('mov_i32', [w], [ctx.const('i32', 1 + (s.a % 4))]);
        ctx.setLabel(l);
        ctx.emit('add_i64', [reg(s.b)], [reg(s.b), reg(s.c)]);
        ctx.emit('sub_i32', [w], [w, ctx.const('i32', 1)]);
        ctx.brcond(Cond.NE, w, ctx.const('i32', 0), l);
        break;
      }
      case 8: { // RV32 on 64-bit registers: [add_i64 t <- reg, off;] extrl_i64_i32 a <- t|reg; qemu_ld/st_i64 [a]
        if (at !== 'i32') break;
        const r = reg(s.b);
        ctx.emit('and_i64', [r], [r, c64(BigInt(MEM_SIZE - 1))]);
        ctx.emit('add_i64', [r], [r, c64(s.c % 16 === 0 ? 0xffff0000n : BigInt(MEM_BASE))]);
        let src = r;
        if (s.v % 3n !== 0n) {
          src = ctx.tempI64();
          ctx.emit('add_i64', [src], [r, c64(BigInt.asUintN(64, BigInt.asIntN(12, s.v)))]);
        }
        const a = ctx.tempI32();
        ctx.emit('extrl_i64_i32', [a], [src]);
        if (s.a % 2) ctx.qemuLd(reg(s.a >> 1), a, 0, (s.a >> 1) % 4 | ((s.a >> 3) % 2 ? MO_SIGN : 0));
        else ctx.qemuSt(reg(s.a >> 1), a, 0, (s.a >> 1) % 4);
        break;
      }
      default: // an unconditional goto_tb exit, or a plain one
        if (s.a % 3 === 0) ctx.exitTb(0);
        else if (s.a % 5 === 1) { ctx.emit('mov_i32', [g32[0]!], [ctx.const('i32', s.v & 0xffffffffn)]); ctx.exitTb(0); } // a 32-bit pc
        else exitWithPc((s.a % 2) as 0 | 1, pc + BigInt(s.b % 64));
        ended = true;
        break;
    }
    if (ended) break;
  }
  // Padding (past the direct-call window), then any pending labels and a last exit.
  for (let k = 0; k < padTo; k++) ctx.emit('add_i64', [regs[k % 3]!], [regs[k % 3]!, c64(BigInt(k))]);
  for (const l of pending) ctx.setLabel(l);
  if (!ended) exitWithPc(0, pc);
  return ctx.finish();
}

function check(fn: IrFunction, seed: number): void {
  const ref = interpreterBackend.compile(fn);
  const tb = closureBackend.compile(fn);
  for (const env of [randomBytes(ENV_SIZE, seed), randomBytes(ENV_SIZE, seed + 1)]) {
    const mem = randomBytes(MEM_SIZE, seed + 2);
    const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
    if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
  }
}

describe('closure backend fused ops and block terminators', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    it(`matches the interpreter on RISC-V-like idioms (${addrType} addresses)`, () => {
      fc.assert(fc.property(fc.array(idiomArb, { minLength: 1, maxLength: 14 }), fc.integer(), fc.constantFrom(0, 0, 150),
        (idioms, seed, pad) => {
          const fn = build(idioms, addrType, pad);
          check(fn, seed);
          check(optimizeIr(build(idioms, addrType, pad)), seed);
        }), { numRuns: process.env['SOFTBOARD_FULL'] ? 4000 : 400 });
    });
  }

  it('runs a long TB with branches across it', () => {
    // A chain of forward branches, each over 40 adds: blocks far apart return to the dispatch loop.
    const { set, i64: [x1, x2, x3, pcG] } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x1000);
    for (let k = 0; k < 8; k++) {
      const l = ctx.newLabel();
      ctx.brcond(k % 2 ? Cond.LTU : Cond.NE, x1!, ctx.const('i64', BigInt(k * 1000)), l);
      for (let j = 0; j < 40; j++) ctx.emit('add_i64', [x2!], [x2!, x3!]);
      ctx.setLabel(l);
      ctx.emit('xor_i64', [x3!], [x3!, x1!]);
    }
    ctx.emit('mov_i64', [pcG!], [ctx.const('i64', 0x2000)]);
    ctx.exitTb(0);
    const fn = ctx.finish();
    fc.assert(fc.property(fc.integer(), (seed) => { check(fn, seed); }), { numRuns: 100 });
  });

  it('passes 3, 4 and 5 helper arguments in order, with their types', () => {
    const { set, i64: [x1, x2, x3], i32: [w1, w2] } = makeGlobals();
    const mix = (n: number): HelperInfo => ({
      name: `mix${n}`, args: (['i64', 'i32', 'i64', 'i32', 'i64'] as const).slice(0, n), ret: 'i64', flags: 0,
      fn: (cpu: FakeCpu, ...xs: (bigint | number)[]) => {
        cpu.log.push(`mix${n} ${xs.join(' ')}`);
        return xs.reduce<bigint>((acc, x, k) => acc * 31n + BigInt(x) * BigInt(k + 1), 7n);
      },
    });
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x1000);
    ctx.call(mix(3), x1!, x2!, w1!, x3!);
    ctx.insnStart(0x1004);
    ctx.call(mix(4), x2!, x1!, w2!, x3!, w1!);
    ctx.insnStart(0x1008);
    ctx.call(mix(5), x3!, x2!, w1!, x1!, w2!, ctx.const('i64', 5));
    ctx.exitTb(0);
    const fn = ctx.finish();
    fc.assert(fc.property(fc.integer(), (seed) => { check(fn, seed); }), { numRuns: 50 });
  });
});
