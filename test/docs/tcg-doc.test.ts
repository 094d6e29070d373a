/**
 * Keeps docs/tcg.md true to the code: the IR dumps in it are what the RISC-V frontend and the optimizer
 * produce today for the example loop. Run with UPDATE_DOCS=1 to rewrite the dumps in the doc.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TcgContext } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { RiscvCpu } from '../../src/target/riscv/cpu.js';
import { program } from '../target/riscv/asm.js';

const DOC = new URL('../../docs/tcg.md', import.meta.url);

function exampleDumps(): { before: string; after: string } {
  // The loop body of `sum += i; i--; while (i != 0)` as gcc emits it for rv64.
  const code = program([
    ['add', { rd: 10, rs1: 10, rs2: 11 }],
    ['addi', { rd: 11, rs1: 11, imm: -1 }],
    ['bne', { rs1: 11, rs2: 0, imm: -8 }],
  ]);
  const bytes = new DataView(new ArrayBuffer(64));
  let off = 0;
  for (const i of code) {
    bytes.setUint32(off, i.bits >>> 0, true);
    off += 4;
  }
  const base = 0x80000000n;
  const cpu = new RiscvCpu({ resetVector: base });
  cpu.reset();
  const ctx = new TcgContext(cpu.globals, cpu.addrType);
  const { pc, flags } = cpu.getTbState();
  cpu.translate(ctx, {
    pc, flags, maxInsns: 512,
    fetch16: (a) => bytes.getUint16(Number(a - base), true),
    fetch32: (a) => bytes.getUint32(Number(a - base), true),
  });
  const fn = ctx.finish();
  return { before: dumpIr(fn), after: dumpIr(optimizeIr(fn)) };
}

function section(doc: string, name: string): string {
  const m = new RegExp('<!-- ' + name + ' -->\\n```\\n([\\s\\S]*?)```').exec(doc);
  return m?.[1] ?? '';
}

it('docs/tcg.md shows the IR the frontend and optimizer really produce', () => {
  const { before, after } = exampleDumps();
  let doc = readFileSync(DOC, 'utf8');
  if (process.env['UPDATE_DOCS'] === '1') {
    const put = (d: string, name: string, text: string): string =>
      d.replace(new RegExp('(<!-- ' + name + ' -->\\n```\\n)[\\s\\S]*?(```)'), (_m, a: string, b: string) => a + text + b);
    doc = put(put(doc, 'op', before), 'op_opt', after);
    writeFileSync(DOC, doc);
  }
  expect(section(doc, 'op')).toBe(before);
  expect(section(doc, 'op_opt')).toBe(after);
  expect(after.split('\n').length).toBeLessThan(before.split('\n').length);
});
