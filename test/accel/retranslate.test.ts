/**
 * TbCache.retranslate: a TB translated again from the RAM pages it recorded gives the very IR it was made
 * from (the closure backend and `auto` rely on it to drop the IR of cold TBs and get it back when a
 * second CPU binds the TB or the TB gets hot).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TranslationBlock } from '../../src/accel/tcg/tb-cache.js';
import type { Backend, CompileHooks } from '../../src/tcg/backend/backend.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import type { IrFunction } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/riscv');

/** Closure code that also records, per TB, the IR it was given (as translated: optimizesLazily). */
function recording(): { backend: Backend; irs: Map<unknown, IrFunction> } {
  const irs = new Map<unknown, IrFunction>();
  const hooksOf: { hooks: CompileHooks; fn: IrFunction }[] = [];
  const backend: Backend = {
    name: 'recording-closure',
    optimizesLazily: true,
    compile(fn, hooks) {
      if (hooks) hooksOf.push({ hooks, fn });
      return closureBackend.compile(fn, hooks);
    },
  };
  return {
    backend,
    get irs() {
      for (const { hooks, fn } of hooksOf) irs.set(hooks.owner?.(), fn);
      return irs;
    },
  };
}

describe('retranslation', () => {
  for (const name of readdirSync(dir).filter((f) => /^(isa-rv64i|isa-rv32c|isa-rv64d|traps)\.elf$/.test(f))) {
    it(`gives back the IR every TB of ${name} was made from`, () => {
      const rec = recording();
      const m = createVirtMachine({
        arch: name.includes('rv32') ? 'riscv32' : 'riscv64', bios: 'none', backend: rec.backend,
        kernel: new Uint8Array(readFileSync(join(dir, name))),
      });
      expect(m.run({ instructions: 20_000_000 }).reason).toBe('shutdown');
      const cpu = m.harts[0]!;
      let checked = 0;
      for (const [owner, fn] of rec.irs) {
        const tb = owner as TranslationBlock | undefined;
        if (!tb || tb.invalid || tb.page0 < 0) continue;
        const again = m.tbCache.retranslate(tb, cpu.tcg.ops);
        expect(again, `TB at 0x${tb.pc.toString(16)}`).not.toBeNull();
        expect(dumpIr(again!)).toBe(dumpIr(fn));
        checked++;
      }
      expect(checked).toBeGreaterThan(20);
    });
  }

  it('is refused for an invalidated TB', () => {
    const rec = recording();
    const m = createVirtMachine({ bios: 'none', backend: rec.backend, kernel: new Uint8Array(readFileSync(join(dir, 'traps.elf'))) });
    m.run({ instructions: 20_000_000 });
    const tb = [...rec.irs.keys()].find((o) => (o as TranslationBlock | undefined)?.page0 !== undefined && (o as TranslationBlock).page0 >= 0) as TranslationBlock;
    m.tbCache.invalidate(tb);
    expect(m.tbCache.retranslate(tb, m.harts[0]!.tcg.ops)).toBeNull();
  });
});
