/**
 * The wasm tier's code (regions, inline soft-TLB fast path, bookkeeping in the control block) against the
 * reference interpreter on random IR programs (test/tcg/gen-ir.ts): the same exit value, env, guest
 * memory, helper call sequence and `curInsn` at a fault. The fake guest memory lives in the tier's
 * machine memory with TLB entries for its pages, so aligned little-endian accesses to it take the inline
 * path (checked on its own below) and the others the slow path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIER_TLB_LAYOUT, TLB_ENTRY_WORDS } from '../../src/accel/tcg/tlb.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { CTL_ADDEND, CTL_DONE, CTL_PC_LO, CTL_SIZE, CTL_STOP, CTL_TLB } from '../../src/tcg/backend/wasm/codegen.js';
import { createWasmTcgMemory, type WasmTcgMemory } from '../../src/tcg/backend/wasm/tcg-memory.js';
import { createWasmTier, type TierRuntime, type WasmTier } from '../../src/tcg/backend/wasm/tier.js';
import type { CompiledTb, TbRuntime } from '../../src/tcg/backend/backend.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { CALL_NO_READ_GLOBALS, CALL_NO_WRITE_GLOBALS, MO_SIGN, type HelperInfo } from '../../src/tcg/ir.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { TcgContext } from '../../src/tcg/context.js';
import { diffOutcome, ENV_SIZE, FakeRuntime, MEM_BASE, MEM_SIZE, outcomeOf } from './fake-rt.js';
import { buildProgram, makeGlobals, programArb } from './gen-ir.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const MMU_MODES = 3;
const TLB_WORDS = MMU_MODES * (1 << TIER_TLB_LAYOUT.tlbBits) * TLB_ENTRY_WORDS;

/** One machine memory for the whole file: the fake RAM (RAM id 0), an env, a TLB, a control block. */
function setup(): { memory: WasmTcgMemory; tier: WasmTier; ram: Uint8Array; env: Int32Array; tlb: Int32Array; ctl: Int32Array } {
  const memory = createWasmTcgMemory()!;
  const ram = memory.ramAllocator.allocate(MEM_SIZE, 'fake');
  const env = memory.allocateI32(ENV_SIZE >> 2, 64);
  const tlb = memory.allocateI32(TLB_WORDS, 64).fill(-1);
  const addends = memory.allocateI32(TLB_WORDS / TLB_ENTRY_WORDS, 64).fill(-1);
  // The fake memory's pages, readable and writable in every MMU mode (tags as src/accel/tcg/tlb.ts).
  for (let m = 0; m < MMU_MODES; m++) {
    for (let p = 0; p < MEM_SIZE; p += 0x1000) {
      const va = MEM_BASE + p;
      const e = ((m << TIER_TLB_LAYOUT.tlbBits) + ((va >>> 12) & ((1 << TIER_TLB_LAYOUT.tlbBits) - 1))) * TLB_ENTRY_WORDS;
      tlb.set([va, 0, va, 0, va, 0, 0, p], e);
      addends[e / TLB_ENTRY_WORDS] = ram.byteOffset + p;
    }
  }
  const ctl = memory.allocateI32(CTL_SIZE >> 2, 64);
  ctl[CTL_TLB >> 2] = tlb.byteOffset;
  ctl[CTL_ADDEND >> 2] = addends.byteOffset;
  ctl[CTL_PC_LO >> 2] = -1; // no pc global: lookups return to the caller
  return { memory, tier: createWasmTier(memory, TIER_TLB_LAYOUT), ram, env, tlb, ctl };
}

const M = setup();
/** Guest accesses made by the interpreter, and those the tier code sent to the slow path. */
const counts = { all: 0, slow: 0 };

class CountingRuntime extends FakeRuntime {
  override load(lo: number, hi: number, memop: number, mmu: number): number { counts.all++; return super.load(lo, hi, memop, mmu); }
  override store(lo: number, hi: number, vlo: number, vhi: number, memop: number, mmu: number): void {
    counts.all++;
    super.store(lo, hi, vlo, vhi, memop, mmu);
  }
}

/** The fake runtime with env and guest memory inside the tier's memory. */
class TierFakeRuntime extends FakeRuntime implements TierRuntime {
  readonly tierEnv: number;
  readonly tierCtl: number;
  readonly tierCtlI32: Int32Array;
  tierEntered = false;
  readonly icount = 0;
  readonly tierBudgetEnd = 0x3fffffff;

  constructor(envInit: Uint8Array, memInit: Uint8Array) {
    super(envInit, memInit);
    const self = this as unknown as { env: ArrayBufferLike; envI32: Int32Array; envView: DataView; mem: Uint8Array };
    const envBytes = new Uint8Array(M.env.buffer, M.env.byteOffset, ENV_SIZE);
    envBytes.set(envInit.subarray(0, ENV_SIZE));
    M.ram.set(memInit.subarray(0, MEM_SIZE));
    self.env = M.env.buffer;
    self.envI32 = M.env;
    self.envView = new DataView(M.env.buffer, M.env.byteOffset, ENV_SIZE);
    self.mem = M.ram;
    this.cpu.view = self.envView;
    this.tierEnv = M.env.byteOffset;
    this.tierCtl = M.ctl.byteOffset;
    this.tierCtlI32 = M.ctl;
    M.ctl[CTL_STOP >> 2] = 0;
  }
  override load(lo: number, hi: number, memop: number, mmu: number): number { counts.slow++; return super.load(lo, hi, memop, mmu); }
  override store(lo: number, hi: number, vlo: number, vhi: number, memop: number, mmu: number): void {
    counts.slow++;
    super.store(lo, hi, vlo, vhi, memop, mmu);
  }
}

/** Runs tier code as the execution loop would and captures the outcome (env read from the memory). */
function runTier(tb: CompiledTb, envInit: Uint8Array, memInit: Uint8Array) {
  const rt = new TierFakeRuntime(envInit, memInit);
  const o = outcomeOf(rt, tb);
  expect(rt.tierEntered).toBe(true); // it ran in wasm, not the closure fallback
  return { ...o, env: [...new Uint8Array(M.env.buffer, M.env.byteOffset, ENV_SIZE)] };
}

describe('wasm tier code', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    for (const optimized of [false, true]) {
      it(`matches the interpreter on random programs (${addrType} addresses${optimized ? ', optimized' : ''})`, () => {
        fc.assert(fc.property(programArb(), bytes(ENV_SIZE), bytes(MEM_SIZE), (steps, env, mem) => {
          const raw = buildProgram(steps, { addrType });
          const fn = optimized ? optimizeIr(raw) : raw;
          const want = outcomeOf(new CountingRuntime(env, mem), interpreterBackend.compile(fn));
          const got = runTier(M.tier.compile(fn), env, mem);
          const d = diffOutcome(want, got);
          if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
        }), { numRuns: 80, endOnFailure: true });
        // (Few random accesses are aligned, little-endian and in range, so how many took the inline path
        // varies; the test below drives that path on purpose.)
        counts.all = counts.slow = 0;
      });
    }
  }

  it('aligned little-endian accesses to mapped RAM never leave wasm, and read what was written', () => {
    const { set, i64, i32 } = makeGlobals();
    for (const addrType of ['i64', 'i32'] as const) {
      const ctx = new TcgContext(set, addrType);
      ctx.insnStart(0x80000000n);
      const a = addrType === 'i64' ? ctx.tempI64() : ctx.tempI32();
      let k = 0;
      for (const size of [0, 1, 2, 3]) {
        for (const sign of [0, MO_SIGN]) {
          if (size === 3 && sign) continue;
          ctx.movi(a, BigInt(MEM_BASE + 0x1000 - 64 + 8 * k++)); // both pages
          ctx.qemuSt(i64[0]!, a, k % MMU_MODES, size);
          ctx.qemuLd(i64[1 + (k % 3)]!, a, (k + 1) % MMU_MODES, size | sign);
          if (size < 3) { ctx.qemuLd(i32[k % 2]!, a, 0, size | sign); }
        }
      }
      ctx.exitTb(0);
      const fn = ctx.finish();
      const env = new Uint8Array(ENV_SIZE).map((_, j) => (j * 37 + 11) & 0xff);
      const mem = new Uint8Array(MEM_SIZE).map((_, j) => (j * 13 + 5) & 0xff);
      counts.all = counts.slow = 0;
      const want = outcomeOf(new CountingRuntime(env, mem), interpreterBackend.compile(fn));
      const got = runTier(M.tier.compile(fn), env, mem);
      expect(diffOutcome(want, got), dumpIr(fn)).toBeNull();
      expect(counts.all).toBeGreaterThan(15);
      expect(counts.slow).toBe(0);
    }
  });

  it('counts the instructions of a TB in the control block when it returns to JS', () => {
    const { set, i64 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    for (let k = 0; k < 3; k++) { ctx.insnStart(0x80000000n + BigInt(4 * k)); ctx.addi(i64[0]!, i64[0]!, 1n); }
    ctx.exitTb(0);
    const tb = M.tier.compile(ctx.finish());
    const rt = new TierFakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE));
    M.ctl[CTL_DONE >> 2] = -7;
    expect(tb(rt as TbRuntime)).toBe(0);
    expect(M.ctl[CTL_DONE >> 2]).toBe(3);
  });
});

describe('which hot TBs the tier takes', () => {
  const softfloatLike: HelperInfo = { name: 'sf', args: ['i32'], flags: 0, fn: () => undefined };
  const pure: HelperInfo = { name: 'pure', args: ['i32'], ret: 'i32', flags: CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS, fn: (_c, x: number) => x };
  const tbWith = (h: HelperInfo, calls: number) => {
    const { set, i32 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0x80000000n);
    for (let k = 0; k < calls; k++) ctx.call(h, h.ret ? i32[0]! : null, i32[1]!);
    ctx.exitTb(0);
    return ctx.finish();
  };
  it('declines TBs with several helper calls that touch globals, takes the others', () => {
    expect(M.tier.accepts(tbWith(softfloatLike, 2))).toBe(false);
    expect(M.tier.accepts(tbWith(softfloatLike, 1))).toBe(true);
    expect(M.tier.accepts(tbWith(pure, 5))).toBe(true);
  });
});
