import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TARGET_PAGE_BITS } from '../../src/accel/tcg/tcg-cpu-ops.js';
import { TLB_ENTRY_WORDS, TLB_RAM_ID, TLB_RAM_OFFSET, TLB_READ_HI, TLB_READ_LO, TLB_WRITE_HI, TLB_WRITE_LO } from '../../src/accel/tcg/tlb.js';
import type { IrFunction } from '../../src/tcg/context.js';
import { GlobalSet, TcgContext } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import {
  createJsBackend, JS_TLB_PAGE_BITS, jsBackend, jsBackendAvailable, type TbFastMem,
} from '../../src/tcg/backend/js.js';
import type { CompiledTb, TbRuntime } from '../../src/tcg/backend/backend.js';
import { CALL_NO_WRITE_GLOBALS, Cond, MO_ALIGN, MO_SIGN, MO_UL, MO_UQ, type HelperInfo } from '../../src/tcg/ir.js';
import { diffOutcome, ENV_SIZE, FakeFault, FakeRuntime, MEM_BASE, MEM_SIZE, outcomeOf, runOn, type FakeCpu, type Outcome } from './fake-rt.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { buildProgram, helperEffect, makeGlobals, programArb } from './gen-ir.js';

/**
 * `n` random bytes from a seed: as random as an array of bytes but a failure shrinks in a few steps
 * (shrinking 8 KiB arrays element by element takes minutes).
 */
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.integer().map((seed) => {
  const u = new Uint8Array(n);
  let x = seed | 1;
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    u[k] = x >>> 24;
  }
  return u;
});

/**
 * A fake runtime that also exposes a soft TLB over its memory, so compiled code takes the inline fast
 * path. `rt.load`/`rt.store` stay the fake's (no TLB), so a wrong inline access shows as a difference.
 * `pattern` decides per (MMU index, page) which tags are valid: bit 0 read, bit 1 write.
 */
class FastMemRuntime extends FakeRuntime {
  readonly fastMem: TbFastMem;
  constructor(env: Uint8Array, mem: Uint8Array, pattern: number) {
    super(env, mem);
    const tlbBits = 3;
    const E = new Int32Array(4 * (1 << tlbBits) * TLB_ENTRY_WORDS).fill(-1);
    let bit = 0;
    for (let mmu = 0; mmu < 3; mmu++) {
      for (let page = 0; page < MEM_SIZE >> 12; page++) {
        const va = MEM_BASE + (page << 12);
        const e = ((mmu << tlbBits) + ((va >>> 12) & ((1 << tlbBits) - 1))) * TLB_ENTRY_WORDS;
        const p = (pattern >> bit) & 3;
        bit += 2;
        if (p & 1) { E[e + TLB_READ_LO] = va; E[e + TLB_READ_HI] = 0; }
        if (p & 2) { E[e + TLB_WRITE_LO] = va; E[e + TLB_WRITE_HI] = 0; }
        E[e + TLB_RAM_ID] = 0;
        E[e + TLB_RAM_OFFSET] = page << 12;
      }
    }
    this.fastMem = { tlbEntries: E, tlbBits, ramBytes: [this.mem] };
  }
}

function runFast(run: CompiledTb, env: Uint8Array, mem: Uint8Array, pattern: number): Outcome {
  return outcomeOf(new FastMemRuntime(env, mem, pattern), run);
}

describe('js backend', () => {
  it('is available under Node', () => {
    expect(jsBackendAvailable()).toBe(true);
  });

  it('assumes the TLB page size of the execution loop', () => {
    expect(JS_TLB_PAGE_BITS).toBe(TARGET_PAGE_BITS);
  });

  for (const addrType of ['i64', 'i32'] as const) {
    it(`matches the reference interpreter on random programs (${addrType} addresses)`, async () => {
      const js = createJsBackend();
      fc.assert(
        fc.property(programArb(), bytes(ENV_SIZE), bytes(MEM_SIZE), bytes(ENV_SIZE), fc.nat(), (steps, env, mem, env2, pattern) => {
          const fn = buildProgram(steps, { addrType });
          const ref = interpreterBackend.compile(fn);
          const variants: [string, CompiledTb][] = [['js', js.compile(fn)]];
          variants.push(['js(optimized)', js.compile(optimizeIr(buildProgram(steps, { addrType })))]);
          for (const e of [env, env2]) {
            const want = runOn(ref, e, mem);
            for (const [name, tb] of variants) {
              const d = diffOutcome(want, runOn(tb, e, mem)) ?? diffOutcome(want, runFast(tb, e, mem, pattern));
              if (d) expect.fail(`${name}: ${d}\n${dumpIr(fn)}\n${js.source(fn)}`);
            }
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});

// ---- one op at a time: every opcode, every operand shape -------------------------------------------

const M64 = (1n << 64n) - 1n;
const INTERESTING = [0n, 1n, 2n, 3n, 31n, 32n, 33n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0xffffffff80000000n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0xffffffff00000000n];
const valueArb = fc.oneof(
  fc.constantFrom(...INTERESTING),
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: -300n, max: 300n }).map((v) => v & M64),
  fc.bigInt({ min: -(1n << 31n), max: (1n << 31n) - 1n }).map((v) => v & M64),
);
const ALL_CONDS = [Cond.NEVER, Cond.ALWAYS, Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LE, Cond.GT,
  Cond.LTU, Cond.GEU, Cond.LEU, Cond.GTU];

type Shape = 'bin' | 'un' | 'clz' | 'setcond' | 'movcond' | 'brcond' | 'mul2' | 'field' | 'bswap' | 'conv';
const OPS: [string, Shape][] = [
  ...['add', 'sub', 'mul', 'div', 'divu', 'rem', 'remu', 'and', 'or', 'xor', 'andc', 'orc', 'eqv', 'shl', 'shr',
    'sar', 'rotl', 'rotr'].map((n): [string, Shape] => [n, 'bin']),
  ...['neg', 'not', 'ext8s', 'ext8u', 'ext16s', 'ext16u', 'ctpop', 'mov', 'ext32s', 'ext32u', 'bswap64']
    .map((n): [string, Shape] => [n, 'un']),
  ['clz', 'clz'], ['ctz', 'clz'], ['setcond', 'setcond'], ['movcond', 'movcond'], ['brcond', 'brcond'],
  ['mulu2', 'mul2'], ['muls2', 'mul2'], ['mulsu2', 'mul2'],
  ['extract', 'field'], ['sextract', 'field'], ['deposit', 'field'],
  ['bswap16', 'bswap'], ['bswap32', 'bswap'],
  ['ext_i32_i64', 'conv'], ['extu_i32_i64', 'conv'], ['extrl_i64_i32', 'conv'], ['extrh_i64_i32', 'conv'],
];

interface OneOp { op: number; wide: boolean; vals: bigint[]; konst: number; alias: number; c: number[] }
const oneOpArb: fc.Arbitrary<OneOp> = fc.record({
  op: fc.nat(OPS.length - 1), wide: fc.boolean(), vals: fc.array(valueArb, { minLength: 4, maxLength: 4 }),
  konst: fc.nat(15), alias: fc.nat(3), c: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
});

/** Builds `op` on globals (or constants, per `konst` bits) with its result(s) in globals. */
function oneOpProgram(t: OneOp): IrFunction | null {
  const [name, shape] = OPS[t.op]!;
  const { set, i64, i32 } = makeGlobals();
  const ctx = new TcgContext(set, 'i64');
  let type: 'i32' | 'i64' = t.wide ? 'i64' : 'i32';
  if (shape === 'un' && ['ext32s', 'ext32u', 'bswap64'].includes(name) || name === 'mulsu2') type = 'i64';
  const gs = type === 'i64' ? i64 : i32;
  const g = (k: number) => gs[k % gs.length]!;
  const input = (k: number, ty = type) => ((t.konst >> k) & 1 ? ctx.const(ty, t.vals[k]!) : (ty === 'i64' ? i64 : i32)[k % 2]!);
  ctx.insnStart(0x1000);
  // Seed the input globals with the values (so non-constant inputs see them too).
  t.vals.forEach((v, k) => { ctx.mov(g(k), ctx.const(type, v)); });
  // Output: a fresh global, or (alias) one of the inputs.
  const d = t.alias === 0 ? g(0) : t.alias === 1 ? g(1) : g(2 + (t.alias & 1));
  const w = type === 'i64' ? 64 : 32;
  const cond = ALL_CONDS[t.c[0]! % ALL_CONDS.length]!;
  switch (shape) {
    case 'bin': ctx.emit(`${name}_${type}` as never, [d], [input(0), input(1)]); break;
    case 'un': ctx.emit(`${name}_${type}` as never, [d], [input(0)]); break;
    case 'clz': ctx.emit(`${name}_${type}` as never, [d], [input(0), input(1)]); break;
    case 'setcond': ctx.emit(`setcond_${type}` as never, [d], [input(0), input(1)], [cond]); break;
    case 'movcond': ctx.emit(`movcond_${type}` as never, [d], [input(0), input(1), input(2), input(3)], [cond]); break;
    case 'brcond': {
      const l = ctx.newLabel();
      ctx.brcond(cond, input(0), input(1), l);
      ctx.movi(g(2), 7);
      ctx.setLabel(l);
      break;
    }
    case 'mul2': {
      const hi = d === g(1) ? g(0) : g(1);
      ctx.emit(`${name}_${type}` as never, [d, hi], [input(0), input(1)]);
      break;
    }
    case 'field': {
      const ofs = t.c[1]! % w, len = 1 + (t.c[2]! % (w - ofs));
      ctx.emit(`${name}_${type}` as never, [d], name === 'deposit' ? [input(0), input(1)] : [input(0)], [ofs, len]);
      break;
    }
    case 'bswap': {
      if (name === 'bswap32' && type === 'i32' && t.c[1]! % 2) return null;
      ctx.emit(`${name}_${type}` as never, [d], [input(0)], [[0, 1, 2, 3, 4, 5][t.c[1]! % 6]!]);
      break;
    }
    case 'conv': {
      const [from, to] = name === 'ext_i32_i64' || name === 'extu_i32_i64' ? ['i32', 'i64'] as const : ['i64', 'i32'] as const;
      const src = (t.konst & 1) ? ctx.const(from, t.vals[0]!) : (from === 'i64' ? i64 : i32)[0]!;
      if (from === 'i32') ctx.mov(i32[0]!, ctx.const('i32', t.vals[0]!)); else ctx.mov(i64[0]!, ctx.const('i64', t.vals[0]!));
      ctx.emit(name as never, [(to === 'i64' ? i64 : i32)[1]!], [src]);
      break;
    }
  }
  ctx.exitTb(0);
  return ctx.finish();
}

describe('js backend, one op at a time', () => {
  it('every op with globals, constants and aliased outputs matches the interpreter', () => {
    const js = createJsBackend();
    const env = new Uint8Array(ENV_SIZE), mem = new Uint8Array(MEM_SIZE);
    fc.assert(fc.property(oneOpArb, (t) => {
      const fn = oneOpProgram(t);
      if (!fn) return;
      const d = diffOutcome(runOn(interpreterBackend.compile(fn), env, mem), runOn(js.compile(fn), env, mem));
      if (d) expect.fail(`${d}\n${dumpIr(fn)}\n${js.source(fn)}`);
    }), { numRuns: 1500 });
  });
});

// ---- guest memory: the inline TLB path against rt.load/rt.store ---------------------------------

interface MemStep { st: boolean; wide: boolean; memop: number; off: number; mmu: number; v: bigint }
const memStepArb: fc.Arbitrary<MemStep> = fc.record({
  st: fc.boolean(), wide: fc.boolean(), memop: fc.nat(31), off: fc.nat(MEM_SIZE + 16), mmu: fc.nat(3),
  v: fc.bigInt({ min: 0n, max: M64 }),
});

function memProgram(steps: readonly MemStep[], addrType: 'i32' | 'i64'): IrFunction {
  const { set, i64, i32 } = makeGlobals();
  const ctx = new TcgContext(set, addrType);
  steps.forEach((s, k) => {
    ctx.insnStart(0x1000 + 4 * k);
    const type = s.wide ? 'i64' : 'i32';
    let memop = s.memop & ~MO_SIGN & 0x1f;
    if (!s.wide && (memop & 3) === 3) memop &= ~3;
    if (!s.st) memop |= s.memop & MO_SIGN;
    if (s.memop & 8 && k % 3) memop &= ~8; // mostly little-endian (the inline path)
    const addr = ctx.const(addrType, BigInt(MEM_BASE - 8 + s.off));
    const g = (s.wide ? i64 : i32)[k % 2]!;
    if (s.st) {
      ctx.mov(g, ctx.const(type, s.v));
      ctx.qemuSt(g, addr, s.mmu, memop);
    } else {
      ctx.qemuLd(g, addr, s.mmu, memop);
    }
  });
  ctx.exitTb(0);
  return ctx.finish();
}

describe('js backend, guest memory', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    it(`inline TLB accesses match rt.load/rt.store (${addrType} addresses)`, () => {
      const js = createJsBackend();
      const noTlb = createJsBackend({ inlineTlb: false });
      fc.assert(fc.property(fc.array(memStepArb, { minLength: 1, maxLength: 12 }), bytes(ENV_SIZE), bytes(MEM_SIZE), fc.nat(),
        (steps, env, mem, pattern) => {
          const fn = memProgram(steps, addrType);
          const want = runOn(interpreterBackend.compile(fn), env, mem);
          const tb = js.compile(fn);
          const d = diffOutcome(want, runFast(tb, env, mem, pattern)) ?? diffOutcome(want, runFast(tb, env, mem, -1))
            ?? diffOutcome(want, runOn(tb, env, mem)) ?? diffOutcome(want, runOn(noTlb.compile(fn), env, mem));
          if (d) expect.fail(`${d}\n${dumpIr(fn)}\n${js.source(fn)}`);
        }), { numRuns: 250 });
    });
  }

  it('a faulting load leaves earlier global writes in env and curInsn at the faulting instruction', () => {
    const { set, i64, i32 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x1000);
    ctx.movi(i64[0]!, 0x1122334455667788n);
    ctx.insnStart(0x1004);
    ctx.addi(i64[1]!, i64[1]!, 5);
    ctx.movi(i32[0]!, -7);
    ctx.insnStart(0x1008);
    const t = ctx.tempI64();
    ctx.qemuLd(t, ctx.constI64(0x5000), 0, MO_UQ); // unmapped: FakeRuntime faults
    ctx.mov(i64[2]!, t);
    ctx.exitTb(0);
    const fn = ctx.finish();
    for (const rt of [new FakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE)),
      new FastMemRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE), -1)]) {
      rt.envView.setBigUint64(8, 100n, true);
      rt.envView.setBigUint64(16, 9n, true);
      expect(() => jsBackend.compile(fn)(rt)).toThrow(FakeFault);
      expect(rt.curInsn).toBe(2);
      expect(rt.envView.getBigUint64(0, true)).toBe(0x1122334455667788n);
      expect(rt.envView.getBigUint64(8, true)).toBe(105n);
      expect(rt.envView.getInt32(32, true)).toBe(-7);
      expect(rt.envView.getBigUint64(16, true)).toBe(9n);
    }
  });

  it('a load that hits the inline TLB does not call rt.load', () => {
    const { set, i32 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x1000);
    ctx.qemuLd(i32[0]!, ctx.constI64(MEM_BASE + 0x1004), 1, MO_UL | MO_ALIGN);
    ctx.exitTb(0);
    const fn = ctx.finish();
    const mem = new Uint8Array(MEM_SIZE);
    mem.set([0x78, 0x56, 0x34, 0x12], 0x1004);
    const rt = new FastMemRuntime(new Uint8Array(ENV_SIZE), mem, -1);
    let calls = 0;
    const load = rt.load.bind(rt);
    rt.load = (...a) => { calls++; return load(...a); };
    jsBackend.compile(fn)(rt);
    expect(rt.envView.getUint32(32, true)).toBe(0x12345678);
    expect(calls).toBe(0);
  });
});

// ---- loops: backward branches run through the switch dispatcher ---------------------------------

/** Wraps a random (forward-branching) program in a loop that runs its body `n` times. */
function loopProgram(steps: Parameters<typeof buildProgram>[0], n: number): IrFunction {
  const fn = buildProgram(steps, { addrType: 'i64' });
  const cnt = { id: fn.temps.length, type: 'i32' as const, kind: 'temp' as const, value: 0n, offset: -1, name: '' };
  const k1 = { id: fn.temps.length + 1, type: 'i32' as const, kind: 'const' as const, value: 1n, offset: -1, name: '' };
  const kn = { id: fn.temps.length + 2, type: 'i32' as const, kind: 'const' as const, value: BigInt(n), offset: -1, name: '' };
  const k0 = { id: fn.temps.length + 3, type: 'i32' as const, kind: 'const' as const, value: 0n, offset: -1, name: '' };
  const loop = { id: fn.nbLabels };
  const body = fn.ops.slice(1, -1); // between the first insn_start and the final exit_tb 0
  const ops = [
    fn.ops[0]!,
    { opc: 'mov_i32' as const, o: [cnt], i: [kn], c: [] },
    { opc: 'set_label' as const, o: [], i: [], c: [], label: loop },
    ...body,
    { opc: 'sub_i32' as const, o: [cnt], i: [cnt, k1], c: [] },
    { opc: 'brcond_i32' as const, o: [], i: [cnt, k0], c: [Cond.NE], label: loop },
    fn.ops[fn.ops.length - 1]!,
  ];
  return { ...fn, ops, temps: [...fn.temps, cnt, k1, kn, k0], nbLabels: fn.nbLabels + 1 };
}

describe('js backend, loops', () => {
  it('runs random loop bodies like the interpreter', () => {
    const js = createJsBackend();
    fc.assert(fc.property(programArb(40), fc.integer({ min: 1, max: 4 }), bytes(ENV_SIZE), bytes(MEM_SIZE), fc.nat(),
      (steps, n, env, mem, pattern) => {
        const fn = loopProgram(steps, n);
        const want = runOn(interpreterBackend.compile(fn), env, mem);
        const tb = js.compile(fn);
        const d = diffOutcome(want, runOn(tb, env, mem)) ?? diffOutcome(want, runFast(tb, env, mem, pattern));
        if (d) expect.fail(`${d}\n${dumpIr(fn)}\n${js.source(fn)}`);
      }), { numRuns: 150 });
  });

  it('keeps a global counted in a loop with a global-writing helper inside', () => {
    const { set, i64, i32 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x1000);
    const top = ctx.newLabel(), out = ctx.newLabel();
    ctx.setLabel(top);
    ctx.addi(i64[0]!, i64[0]!, 3);
    ctx.call(helperEffect, i64[2]!, i64[0]!, i32[0]!); // reads x1, increments x2 in env
    ctx.brcondi(Cond.GEU, i64[1]!, 10, out);
    ctx.br(top);
    ctx.setLabel(out);
    ctx.exitTb(2);
    const fn = ctx.finish();
    const rt = new FakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE));
    expect(jsBackend.compile(fn)(rt)).toBe(2);
    expect(rt.envView.getBigUint64(8, true)).toBe(10n);
    expect(rt.envView.getBigUint64(0, true)).toBe(30n);
    expect((rt.cpu as FakeCpu).log).toHaveLength(10);
    expect((rt.cpu as FakeCpu).log[9]).toContain('x1=30');
  });
});

describe('js backend, source cache', () => {
  it('compiles identical TBs once and binds each to its own helpers', () => {
    const js = createJsBackend();
    const mk = (h: HelperInfo) => {
      const { set, i32 } = makeGlobals();
      const ctx = new TcgContext(set, 'i64');
      ctx.insnStart(0);
      ctx.call(h, i32[0]!, i32[1]!);
      ctx.exitTb(0);
      return ctx.finish();
    };
    const h1: HelperInfo = { name: 'a', fn: (_c, x: number) => x + 1, args: ['i32'], ret: 'i32', flags: CALL_NO_WRITE_GLOBALS };
    const h2: HelperInfo = { name: 'b', fn: (_c, x: number) => x * 3, args: ['i32'], ret: 'i32', flags: CALL_NO_WRITE_GLOBALS };
    const a = js.compile(mk(h1)), b = js.compile(mk(h2));
    expect(js.stats).toMatchObject({ compiled: 2, cacheHits: 1 });
    const run = (tb: CompiledTb): number => {
      const rt: TbRuntime = new FakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE));
      rt.envView.setInt32(36, 5, true);
      tb(rt);
      return rt.envView.getInt32(32, true);
    };
    expect([run(a), run(b)]).toEqual([6, 15]);
  });
});
