/**
 * Decode tables: encode/decode round trips (fast-check) and a few hand-checked encodings from the
 * RISC-V spec / GNU as.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeArgs, extractArgs, type DecodeEnv, EncodeError } from '../../../src/target/riscv/decodetree.js';
import { INSN16, INSN16_PATTERNS } from '../../../src/target/riscv/insn16.decode.js';
import { INSN32, INSN32_PATTERNS } from '../../../src/target/riscv/insn32.decode.js';
import { asm } from './asm.js';

const env = (xlen: 32 | 64): DecodeEnv => ({ xlen, hasExt: () => true });

describe('decode tables', () => {
  for (const xlen of [32, 64] as const) {
    it(`RV${xlen}: decode(w) then encode gives w back, for random words`, () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (w) => {
        const size = (w & 3) === 3 ? 4 : 2;
        const bits = size === 2 ? w & 0xffff : w >>> 0;
        const p = (size === 2 ? INSN16 : INSN32).decode(bits, env(xlen));
        if (!p || p.illegal) return;
        const args = extractArgs(p, bits);
        expect(encodeArgs(p, args)).toBe(bits);
      }), { numRuns: 3000 });
    });
    it(`RV${xlen}: encode(random args) decodes to the same pattern and arguments`, () => {
      for (const p of [...INSN32_PATTERNS, ...INSN16_PATTERNS]) {
        if (p.illegal || (p.xlen !== undefined && p.xlen !== xlen)) continue;
        fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (noise) => {
          const width = p.size === 2 ? 0xffff : 0xffffffff;
          const bits = (((noise & ~p.mask) | p.match) & width) >>> 0;
          const args = extractArgs(p, bits);
          const enc = encodeArgs(p, args);
          const q = (p.size === 2 ? INSN16 : INSN32).decode(enc, env(xlen));
          // An earlier, more specific pattern (c.illegal, c.addi16sp before c.lui, c.jr before c.mv) may win.
          if (q !== p) {
            expect(q, `${p.mnemonic} 0x${enc.toString(16)}`).toBeDefined();
            expect((p.size === 2 ? INSN16_PATTERNS : INSN32_PATTERNS).indexOf(q!)).toBeLessThan(
              (p.size === 2 ? INSN16_PATTERNS : INSN32_PATTERNS).indexOf(p));
            return;
          }
          expect(extractArgs(q, enc)).toEqual(args);
        }), { numRuns: 20 });
      }
    });
  }

  it('known encodings (from GNU as)', () => {
    expect(asm('addi', { rd: 10, rs1: 11, imm: 5 })).toBe(0x00558513);
    expect(asm('c.addi', { rd: 10, rs1: 10, imm: 3 })).toBe(0x050d);
    expect(asm('c.li', { rd: 15, rs1: 0, imm: 3 })).toBe(0x478d);
    expect(asm('c.addi16sp', { rd: 2, rs1: 2, imm: -32 })).toBe(0x713d);
    expect(asm('c.addi4spn', { rd: 10, rs1: 2, imm: 16 })).toBe(0x0808);
    expect(asm('c.ldsp', { rd: 1, rs1: 2, imm: 8 })).toBe(0x60a2);
    expect(asm('c.fsdsp', { rs1: 2, rs2: 10, imm: 8 })).toBe(0xa42a);
    expect(asm('jal', { rd: 0, imm: 0 })).toBe(0x0000006f);
    expect(asm('fmadd.d', { rd: 10, rs1: 11, rs2: 12, rs3: 13, rm: 7 })).toBe(0x6ac5f543);
    expect(asm('sc.d', { rd: 10, rs1: 11, rs2: 12, aq: 0, rl: 0 })).toBe(0x18c5b52f);
    expect(asm('rev8', { rd: 10, rs1: 11 }, 64)).toBe(0x6b85d513);
    expect(asm('slli.uw', { rd: 10, rs1: 11, shamt: 3 })).toBe(0x0835951b);
    expect(asm('csrrs', { rd: 10, rs1: 0, csr: 0xc01 })).toBe(0xc0102573);
  });
  it('the encoder rejects values that do not fit', () => {
    expect(() => asm('addi', { rd: 1, rs1: 1, imm: 2048 })).toThrow(EncodeError);
    expect(() => asm('beq', { rs1: 1, rs2: 1, imm: 3 })).toThrow(EncodeError);
    expect(() => asm('c.lw', { rd: 1, rs1: 8, imm: 0 })).toThrow(EncodeError); // x1 not in x8..x15
    expect(() => asm('c.addi', { rd: 10, rs1: 11, imm: 1 })).toThrow(EncodeError); // rd must equal rs1
  });
  it('RV32/RV64 differences: c.jal vs c.addiw, c.flw vs c.ld', () => {
    expect(INSN16.decode(0x2001 | (5 << 2), env(32))?.mnemonic).toBe('c.jal');
    expect(INSN16.decode(0x2085, env(64))?.mnemonic).toBe('c.addiw');
    expect(INSN16.decode(0x6188, env(32))?.mnemonic).toBe('c.flw');
    expect(INSN16.decode(0x6188, env(64))?.mnemonic).toBe('c.ld');
    expect(INSN32.decode(0x0005b503, env(32))).toBeUndefined(); // ld on RV32
  });
});
