import { describe, expect, it } from 'vitest';
import { TcgContext } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { Cond } from '../../src/tcg/ir.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { liveness } from '../../src/tcg/liveness.js';
import { optimizeForward, optimizeIr } from '../../src/tcg/optimize.js';
import { diffOutcome, ENV_SIZE, MEM_SIZE, randomBytes, runOn } from './fake-rt.js';
import { helperEffect, helperPure64, helperReader, makeGlobals } from './gen-ir.js';

/** Builds a TB with x1..x4 (i64), w1, w2 (i32) and two i64 and two i32 temps. */
function tb(body: (c: TcgContext, g: ReturnType<typeof regs>) => void) {
  const { set, i64, i32 } = makeGlobals();
  const c = new TcgContext(set, 'i64');
  const g = regs(c, i64, i32);
  c.insnStart(0x1000);
  body(c, g);
  c.exitTb(0);
  return c.finish();
}
function regs(c: TcgContext, i64: ReturnType<typeof makeGlobals>['i64'], i32: ReturnType<typeof makeGlobals>['i32']) {
  return {
    x1: i64[0]!, x2: i64[1]!, x3: i64[2]!, x4: i64[3]!, w1: i32[0]!, w2: i32[1]!,
    t0: c.tempI64(), t1: c.tempI64(), u0: c.tempI32(), u1: c.tempI32(),
  };
}
const lines = (...ls: string[]) => [' ---- 0000000000001000', ...ls.map((l) => ` ${l}`), ' exit_tb $0x0', ''].join('\n');

/** Checks the golden dump after optimizeIr, and that behaviour is unchanged on a few random states. */
function expectOpt(fn: ReturnType<typeof tb>, golden: string) {
  const opt = optimizeIr(fn);
  expect(dumpIr(opt)).toBe(golden);
  for (let seed = 1; seed <= 5; seed++) {
    const env = randomBytes(ENV_SIZE, seed), mem = randomBytes(MEM_SIZE, seed + 100);
    expect(diffOutcome(runOn(interpreterBackend.compile(fn), env, mem), runOn(closureBackend.compile(opt), env, mem))).toBeNull();
  }
}

describe('dumpIr', () => {
  it('prints ops as QEMU -d op does', () => {
    const fn = tb((c, { x1, x2, t0, w1 }) => {
      c.addi(x1, x2, 0x10);
      const l = c.newLabel();
      c.brcondi(Cond.EQ, x1, 0, l);
      c.qemuLd(t0, x1, 1, 3 | 16);
      c.st(w1, 0x20, 2);
      c.setLabel(l);
    });
    expect(dumpIr(fn)).toBe(lines(
      'add_i64 x1,x2,$0x10', 'brcond_i64 x1,$0x0,eq,$L0', 'qemu_ld_i64 tmp0,x1,al+leq,1', 'st_i32 w1,env,$0x20,ul', 'set_label $L0',
    ));
  });
});

describe('optimizeIr folding rules', () => {
  it('folds constants through a chain and propagates them into globals', () => {
    expectOpt(tb((c, { x1, t0 }) => { c.movi(t0, 6); c.muli(t0, t0, 7); c.addi(x1, t0, 0); }), lines('mov_i64 x1,$0x2a'));
  });
  it('x+0, x-0, x|0, x^0, x&-1, x*1 become moves; x&0, x*0 become 0; x|-1 becomes -1', () => {
    expectOpt(tb((c, { x1, x2, x3, x4 }) => { c.addi(x1, x2, 0); c.subi(x3, x4, 0); }), lines('mov_i64 x1,x2', 'mov_i64 x3,x4'));
    expectOpt(tb((c, { x1, x2, x3, x4 }) => { c.ori(x1, x2, 0); c.xori(x3, x4, 0); }), lines('mov_i64 x1,x2', 'mov_i64 x3,x4'));
    expectOpt(tb((c, { x1, x2, x3, x4 }) => { c.andi(x1, x2, -1); c.muli(x3, x4, 1); }), lines('mov_i64 x1,x2', 'mov_i64 x3,x4'));
    expectOpt(tb((c, { x1, x2, x3, x4 }) => { c.andi(x1, x2, 0); c.muli(x3, x4, 0); }), lines('mov_i64 x1,$0x0', 'mov_i64 x3,$0x0'));
    expectOpt(tb((c, { w1, w2 }) => { c.ori(w1, w2, -1); }), lines('mov_i32 w1,$0xffffffff'));
  });
  it('x-x, x^x become 0; x&x, x|x become x; shifts and rotates by 0 become moves', () => {
    expectOpt(tb((c, { x1, x2, x3 }) => { c.sub(x1, x2, x2); c.xor(x3, x2, x2); }), lines('mov_i64 x1,$0x0', 'mov_i64 x3,$0x0'));
    expectOpt(tb((c, { x1, x2, x3 }) => { c.and(x1, x2, x2); c.or(x3, x2, x2); }), lines('mov_i64 x1,x2', 'mov_i64 x3,x1'));
    expectOpt(tb((c, { x1, x2, x3, w1, w2 }) => { c.shli(x1, x2, 0); c.sari(x3, x2, 64); c.rotr(w1, w2, c.constI32(32)); }),
      lines('mov_i64 x1,x2', 'mov_i64 x3,x1', 'mov_i32 w1,w2')); // x1 == x2 by then: either is right
  });
  it('moves constants to the second operand and turns sub of a constant into add', () => {
    expectOpt(tb((c, { x1, x2, x3 }) => { c.add(x1, c.constI64(5), x2); c.subi(x3, x2, 1); }),
      lines('add_i64 x1,x2,$0x5', 'add_i64 x3,x2,$0xffffffffffffffff'));
  });
  it('propagates copies of temps and drops the dead temp', () => {
    expectOpt(tb((c, { x1, x2, t0 }) => { c.mov(t0, x2); c.addi(x1, t0, 3); }), lines('add_i64 x1,x2,$0x3'));
  });
  it('does not use a copy of a global after a helper that may write globals', () => {
    expectOpt(tb((c, { x1, x2, w1, t0, t1 }) => { c.mov(t0, x2); c.call(helperEffect, t1, x1, w1); c.addi(x1, t0, 1); }),
      lines('mov_i64 tmp0,x2', 'call effect,$0x0,$1,tmp1,x1,w1', 'add_i64 x1,tmp0,$0x1'));
    expectOpt(tb((c, { x1, x2, w1, t1 }) => { c.movi(x2, 7); c.call(helperEffect, t1, x1, w1); c.addi(x1, x2, 1); }),
      lines('mov_i64 x2,$0x7', 'call effect,$0x0,$1,tmp1,x1,w1', 'add_i64 x1,x2,$0x1'));
  });
  it('forgets a global when an env store overlaps it', () => {
    expectOpt(tb((c, { x1, x2, w1 }) => { c.movi(x2, 7); c.st(w1, 12, 2); c.addi(x1, x2, 1); }),
      lines('mov_i64 x2,$0x7', 'st_i32 w1,env,$0xc,ul', 'add_i64 x1,x2,$0x1'));
  });
  it('decides setcond and movcond with equal or constant operands', () => {
    expectOpt(tb((c, { x1, x2, x3 }) => { c.setcond(Cond.LE, x1, x2, x2); c.setcond(Cond.LTU, x3, x2, c.constI64(0)); }),
      lines('mov_i64 x1,$0x1', 'mov_i64 x3,$0x0'));
    expectOpt(tb((c, { x1, x2, x3, x4 }) => { c.movcond(Cond.GT, x1, x2, x2, x3, x4); c.movcond(Cond.EQ, x3, x2, x4, x2, x2); }),
      lines('mov_i64 x1,x4', 'mov_i64 x3,x2'));
  });
  it('removes extensions of values already extended, and masks that change nothing', () => {
    expectOpt(tb((c, { x1, x2, x3, t0 }) => { c.ext32s(t0, x2); c.ext32s(x1, t0); c.ext8u(t0, x2); c.andi(x3, t0, 0xfff); }),
      lines('ext32s_i64 x1,x2', 'ext8u_i64 x3,x2'));
    expectOpt(tb((c, { x1, x2, t0 }) => { c.qemuLd(t0, x2, 0, 2 | 4); c.ext32s(x1, t0); }),
      lines('qemu_ld_i64 x1,x2,lesl,0'));
  });
  it('turns always-taken branches into br, drops never-taken ones and the code made unreachable', () => {
    const fn = tb((c, { x1, x2, t0 }) => {
      const l1 = c.newLabel(), l2 = c.newLabel();
      c.movi(t0, 5);
      c.brcondi(Cond.LTU, t0, 3, l1); // never
      c.addi(x1, x1, 1);
      c.setLabel(l1);
      c.brcondi(Cond.EQ, t0, 5, l2); // always
      c.addi(x2, x2, 1); // unreachable
      c.insnStart(0x1004);
      c.addi(x2, x2, 2); // unreachable
      c.setLabel(l2);
    });
    expectOpt(fn, [' ---- 0000000000001000', ' add_i64 x1,x1,$0x1', ' br $L1', ' ---- 0000000000001004', ' set_label $L1', ' exit_tb $0x0', ''].join('\n'));
  });
});

describe('liveness', () => {
  it('removes a global store overwritten before any read, and dead pure ops', () => {
    const fn = tb((c, { x1, x2, t0 }) => { c.addi(x1, x2, 1); c.mul(t0, x2, x2); c.addi(x1, x2, 2); });
    expect(dumpIr(liveness(fn))).toBe(lines('add_i64 x1,x2,$0x2'));
  });
  it('keeps a global store before a guest memory access, a reading helper or an exit', () => {
    const ld = tb((c, { x1, x2, t0 }) => { c.movi(x1, 1); c.qemuLd(t0, x2, 0, 3); c.movi(x1, 2); });
    expect(dumpIr(liveness(ld))).toBe(lines('mov_i64 x1,$0x1', 'qemu_ld_i64 tmp0,x2,leq,0', 'mov_i64 x1,$0x2'));
    const call = tb((c, { x1, w1 }) => { c.movi(x1, 1); c.call(helperReader, null, w1); c.movi(x1, 2); });
    expect(dumpIr(liveness(call))).toBe(lines('mov_i64 x1,$0x1', 'call reader,$0x2,$0,w1', 'mov_i64 x1,$0x2'));
    const pure = tb((c, { x1, x2, t0 }) => { c.movi(x1, 1); c.call(helperPure64, t0, x2, x2); c.movi(x1, 2); c.mov(x3of(c), t0); });
    expect(dumpIr(liveness(pure))).toBe(lines('call pure64,$0x7,$1,tmp0,x2,x2', 'mov_i64 x1,$0x2', 'mov_i64 x3,tmp0'));
  });
  it('keeps stores live along a branch and around a backward loop', () => {
    // x1 = 0; t0 = 10; loop: x1 += t0; t0 -= 1; if t0 != 0 goto loop
    const fn = tb((c, { x1, t0 }) => {
      const loop = c.newLabel();
      c.movi(x1, 0);
      c.movi(t0, 10);
      c.setLabel(loop);
      c.add(x1, x1, t0);
      c.subi(t0, t0, 1);
      c.brcondi(Cond.NE, t0, 0, loop);
    });
    const opt = optimizeIr(fn);
    const env = new Uint8Array(ENV_SIZE);
    const out = runOn(closureBackend.compile(opt), env, new Uint8Array(MEM_SIZE));
    expect(out.env[0]).toBe(55);
    expect(dumpIr(opt)).toContain('add_i64 x1,x1,tmp0');
  });
  it('turns a double-width multiply whose high half is dead into mul', () => {
    const fn = tb((c, { x1, x2, x3, t0 }) => { c.mulu2(x1, t0, x2, x3); });
    expect(dumpIr(liveness(fn))).toBe(lines('mul_i64 x1,x2,x3'));
  });
});

describe('optimizeForward', () => {
  it('does not modify its input', () => {
    const fn = tb((c, { x1, x2 }) => { c.addi(x1, x2, 0); });
    const before = dumpIr(fn);
    optimizeForward(fn);
    expect(dumpIr(fn)).toBe(before);
  });
});

function x3of(c: TcgContext) {
  return c.globals.globals[2]!;
}
