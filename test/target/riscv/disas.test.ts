/**
 * The disassembler against GNU objdump (binutils 2.40, Debian's riscv64-unknown-elf): the committed
 * fixtures list random encodings of every pattern in the decode tables with objdump's output.
 * Rebuild them (needs riscv64-unknown-elf-as/objdump) with `test/target/riscv/fixtures/rebuild.sh`.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { disassemble } from '../../../src/target/riscv/disas.js';
import { INSN16_PATTERNS } from '../../../src/target/riscv/insn16.decode.js';
import { INSN32_PATTERNS } from '../../../src/target/riscv/insn32.decode.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const fixturePath = (xlen: number): string => join(FIXTURES, `disas-rv${xlen}.txt`);

/** Deterministic PRNG (mulberry32) so regenerated fixtures are stable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Random encodings: for every pattern, instances with random don't-care/field bits. */
function generate(xlen: 32 | 64, perPattern: number): number[] {
  const rand = rng(xlen);
  const out: number[] = [];
  for (const p of [...INSN32_PATTERNS, ...INSN16_PATTERNS]) {
    if (p.xlen !== undefined && p.xlen !== xlen) continue;
    const width = p.size === 2 ? 0xffff : 0xffffffff;
    for (let k = 0; k < perPattern; k++) {
      let r = rand() & width;
      // Bias some instances towards register/immediate zero, where objdump picks aliases.
      if (k % 4 === 1) r &= ~(p.size === 2 ? 0x007c : 0x000f8000);
      if (k % 4 === 2) r &= ~(p.size === 2 ? 0x0f80 : 0xfff00000);
      out.push((((r & ~p.mask) | p.match) & width) >>> 0);
    }
  }
  return out;
}

/** Runs the GNU toolchain on `.insn` lines; returns objdump's text per instruction. */
function objdump(words: number[], xlen: 32 | 64): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'softboard-disas-'));
  try {
    const src = join(dir, 'a.s'), obj = join(dir, 'a.o');
    writeFileSync(src, words.map((w) => `.insn 0x${w.toString(16)}\n`).join(''));
    execFileSync('riscv64-unknown-elf-as', [`-march=rv${xlen}gc_zba_zbb_zbc_zbs`, `-mabi=${xlen === 64 ? 'lp64' : 'ilp32'}`, '-o', obj, src]);
    const text = execFileSync('riscv64-unknown-elf-objdump', ['-d', obj], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^\s*[0-9a-f]+:\s+[0-9a-f]+\s+(.*)$/.exec(line);
      if (m) lines.push(normalize(m[1]!));
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** objdump → our syntax: one space after the mnemonic, no symbol or comment annotations. */
function normalize(s: string): string {
  return s.replace(/\s*<[^>]*>/, '').replace(/\s*#.*$/, '').replace(/\t/, ' ').trim();
}

function rebuild(xlen: 32 | 64): void {
  const words = generate(xlen, 12);
  const dis = objdump(words, xlen);
  if (dis.length !== words.length) throw new Error(`objdump printed ${dis.length} lines for ${words.length} instructions`);
  writeFileSync(fixturePath(xlen), words.map((w, k) => `${w.toString(16).padStart(8, '0')}\t${dis[k]}\n`).join(''));
}

describe('disassembler vs objdump', () => {
  for (const xlen of [64, 32] as const) {
    if (process.env.SOFTBOARD_REGEN_FIXTURES) rebuild(xlen);
    it(`RV${xlen}: every fixture line matches`, () => {
      expect(existsSync(fixturePath(xlen))).toBe(true);
      const lines = readFileSync(fixturePath(xlen), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(1000);
      const bad: string[] = [];
      lines.forEach((line, k) => {
        const [hexWord, want] = line.split('\t') as [string, string];
        const w = parseInt(hexWord, 16);
        // objdump runs over one .text section: the address of instruction k is the sum of sizes before.
        const got = disassemble(w, BigInt(PCS(lines)[k]!), xlen);
        if (got !== want) bad.push(`${hexWord}: got "${got}", objdump "${want}"`);
      });
      if (process.env.SOFTBOARD_DISAS_DUMP) console.log(bad.join("\n"));
      expect(bad.slice(0, 40)).toEqual([]);
    });
  }
});

const pcCache = new Map<string[], number[]>();
function PCS(lines: string[]): number[] {
  let pcs = pcCache.get(lines);
  if (!pcs) {
    pcs = [];
    let pc = 0;
    for (const l of lines) {
      pcs.push(pc);
      pc += (parseInt(l.slice(0, 8), 16) & 3) === 3 ? 4 : 2;
    }
    pcCache.set(lines, pcs);
  }
  return pcs;
}
