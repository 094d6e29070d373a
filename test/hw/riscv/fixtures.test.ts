/**
 * Every guest program of test/fixtures/riscv run end to end on the virt board (`-bios none -kernel X`),
 * as test/fixtures/riscv/qemu.test.ts runs them on QEMU: the same output and exit status (the programs
 * check themselves against values computed from the spec) on every TCG backend (auto, closure, js, wasm)
 * with the same instruction count on all, and the same run twice gives the same instruction count,
 * output and virtual time.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, type RiscvVirtMachine } from '../../../src/hw/riscv/virt.js';
import { TIER_TLB_LAYOUT } from '../../../src/accel/tcg/tlb.js';
import type { TcgBackendName } from '../../../src/hw/core/cpu.js';
import { createAutoBackend, type TieredBackend } from '../../../src/tcg/backend/tiered.js';
import type { WasmTier } from '../../../src/tcg/backend/wasm/tier.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/riscv');
const elfs = readdirSync(dir).filter((f) => f.endsWith('.elf')).sort();
const is32 = (f: string): boolean => f.includes('rv32');

type Backend = 'closure' | 'interp' | 'js' | 'wasm' | 'auto' | 'tier';
/**
 * The suite runs on every backend a machine can use (interp, the oracle, is too slow for all of it);
 * `tier` is `auto` promoting every TB to the wasm tier after 2 runs, so that the fixtures' short loops,
 * traps and device accesses all run there.
 */
const BACKENDS: readonly Backend[] = ['auto', 'closure', 'js', 'wasm', 'tier'];

/** Wasm tiers made for `tier` runs (their statistics show the tier ran). */
const tiers: WasmTier[] = [];

function boot(name: string, backend: Backend = 'closure'): RiscvVirtMachine {
  let b: TcgBackendName | TieredBackend = backend as TcgBackendName;
  if (backend === 'tier') {
    b = createAutoBackend({ tierLayout: TIER_TLB_LAYOUT, threshold: 2 });
    if (b.wasmTier) tiers.push(b.wasmTier);
  }
  return createVirtMachine({
    arch: is32(name) ? 'riscv32' : 'riscv64', bios: 'none', backend: b,
    kernel: new Uint8Array(readFileSync(join(dir, name))), names: { kernel: name },
  });
}
const out = (m: RiscvVirtMachine): string => m.serial.output;

/** What each program prints when it passes (test/fixtures/riscv/README.md). */
function expectedOutput(name: string): string | RegExp {
  const base = name.replace(/\.elf$/, '');
  if (base.startsWith('hello')) return 'Hello from softboard\n';
  if (base.startsWith('isa-')) return `PASS ${base}\n`;
  if (base.startsWith('traps')) return 'PASS traps\n';
  if (base === 'irq-wfi') return 'wait\nno input\n'; // no serial input: its 10 ms wait times out
  if (base.startsWith('csr-dump')) return /^a0=0x0+\na1\.nonzero=0x0*1\n(?:[a-z0-9.]+=0x[0-9a-f]+\n)+PASS csr-dump\n$/;
  throw new Error(`no expected output for ${name}`);
}

describe('fixtures on softboard', () => {
  it('covers every fixture', () => expect(elfs.length).toBeGreaterThanOrEqual(15));

  // isa-zb covers Zbc (clmul*) too, as QEMU 7.2's default CPU has it (and so does softboard's).
  // Each program on every backend: the same output, status and instruction count on all of them.
  for (const name of elfs) {
    it(`${name} prints what it should and passes, with the same instruction count on ${BACKENDS.join(', ')}`, () => {
      const counts: Record<string, number> = {};
      for (const backend of BACKENDS) {
        const m = boot(name, backend);
        const r = m.run({ instructions: 20_000_000 });
        expect(r.reason, `${backend}: ${out(m)}`).toBe('shutdown');
        const exp = expectedOutput(name);
        if (typeof exp === 'string') expect(out(m), backend).toBe(exp);
        else expect(out(m), backend).toMatch(exp);
        expect(m.shutdownInfo, backend).toEqual({ kind: 'pass', status: 0 });
        counts[backend] = r.instructions;
      }
      expect(new Set(Object.values(counts)).size, JSON.stringify(counts)).toBe(1);
    });
  }

  it('ran the fixtures in the wasm tier (TBs compiled there, chained inside wasm)', () => {
    expect(tiers.length).toBeGreaterThan(0);
    const compiled = tiers.reduce((n, t) => n + t.stats.compiles, 0);
    expect(compiled).toBeGreaterThan(100);
    expect(tiers.reduce((n, t) => n + t.stats.failures, 0)).toBe(0);
    expect(tiers.reduce((n, t) => n + t.stats.directLinks, 0)).toBeGreaterThan(0);
  });

  it('is deterministic: the same run twice gives the same instructions, output, time and state', () => {
    // traps arms the mtimer, takes an interrupt and sleeps in WFI: the clock warps.
    const runs = [boot('traps.elf'), boot('traps.elf')].map((m) => {
      const r = m.run({ instructions: 20_000_000 });
      return { r, out: out(m), pc: m.getRegister('pc'), mepc: m.getRegister('mepc'), mtime: m.mtimer.getTime() };
    });
    expect(runs[0]!.r.reason).toBe('shutdown');
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.r.virtualTimeNs).toBeGreaterThan(runs[0]!.r.instructions * 4); // it did warp
  });

  it('runs with several harts (the others park in WFI, as on QEMU -smp 4)', () => {
    for (const name of ['traps.elf', 'traps-rv32.elf']) {
      const m = createVirtMachine({
        arch: is32(name) ? 'riscv32' : 'riscv64', bios: 'none', cpus: 4, kernel: new Uint8Array(readFileSync(join(dir, name))),
      });
      expect(m.run({ instructions: 20_000_000 }).reason).toBe('shutdown');
      expect(out(m)).toBe('PASS traps\n');
      expect(m.harts.slice(1).every((h) => h.halted)).toBe(true);
    }
  });

  it('runs the same on the reference interpreter backend', () => {
    const a = boot('hello.elf', 'interp');
    const b = boot('hello.elf', 'closure');
    const ra = a.run(), rb = b.run();
    expect(out(a)).toBe('Hello from softboard\n');
    expect(ra).toEqual(rb);
  });
});
