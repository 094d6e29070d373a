/**
 * Comparison of QEMU's and softboard's final states, and the human-readable report of a mismatch:
 * the block disassembled (softboard's disassembler), its inputs, and every difference.
 */
import { disassemble } from '../../src/target/riscv/disas.js';
import { FREG_ABI_NAMES, XREG_ABI_NAMES } from '../../src/target/riscv/cpu-state.js';
import { BLOCK_PC, DATA_BASE, DATA_SIZE, type DiffCase, type DiffState } from './layout.js';
import type { QemuOutcome } from './qemu-user.js';
import type { SoftboardOutcome } from './softboard.js';

const hex = (v: bigint | number, w = 16): string => `0x${v.toString(16).padStart(w, '0')}`;

/** Differences between two final states, one line each; empty when they agree. */
export function diffStates(c: DiffCase, want: DiffState, got: DiffState): string[] {
  const out: string[] = [];
  for (let i = 1; i < 32; i++) {
    if (want.x[i] !== got.x[i]) {
      out.push(`x${i} (${XREG_ABI_NAMES[i]}): in ${hex(c.x[i]!)}  qemu ${hex(want.x[i]!)}  softboard ${hex(got.x[i]!)}`);
    }
  }
  for (let i = 0; i < 32; i++) {
    if (want.f[i] !== got.f[i]) {
      out.push(`f${i} (${FREG_ABI_NAMES[i]}): in ${hex(c.f[i]!)}  qemu ${hex(want.f[i]!)}  softboard ${hex(got.f[i]!)}`);
    }
  }
  const trap = (t: DiffState['trap']): string => (t ? `signal ${t.signal} at ${hex(t.pc, 4)}` : 'no trap');
  if (want.trap?.signal !== got.trap?.signal || want.trap?.pc !== got.trap?.pc) {
    out.push(`trap: qemu ${trap(want.trap)}  softboard ${trap(got.trap)} (SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGSEGV 11)`);
  }
  if (want.fcsr !== got.fcsr) {
    out.push(`fcsr: in ${hex(c.fcsr, 2)}  qemu ${hex(want.fcsr, 2)}  softboard ${hex(got.fcsr, 2)} (frm<<5 | NV DZ OF UF NX)`);
  }
  const word = (d: Uint8Array, o: number): bigint => new DataView(d.buffer, d.byteOffset).getBigUint64(o, true);
  for (let o = 0; o < DATA_SIZE; o += 8) {
    if (word(want.data, o) !== word(got.data, o)) {
      out.push(`mem[${hex(DATA_BASE + BigInt(o), 4)}]: in ${hex(word(c.data, o))}  qemu ${hex(word(want.data, o))}  ` +
        `softboard ${hex(word(got.data, o))}`);
    }
  }
  return out;
}

/** The mismatch lines of one case (empty when QEMU and softboard agree). */
export function compareOutcomes(c: DiffCase, q: QemuOutcome, s: SoftboardOutcome): string[] {
  if (!q.ok) return [q.error, ...(s.ok ? ['softboard ran the block to its end'] : [s.error])];
  if (!s.ok) return [s.error, ...diffStates(c, q.state, s.state)];
  return diffStates(c, q.state, s.state);
}

/** The block, one instruction a line: address, bits, softboard's disassembly. */
export function listing(c: DiffCase): string[] {
  const out: string[] = [];
  let pc = BLOCK_PC;
  for (const i of c.code) {
    const bits = i.size === 2 ? i.bits.toString(16).padStart(4, '0').padEnd(8, ' ') : i.bits.toString(16).padStart(8, '0');
    out.push(`  ${hex(pc, 4)}: ${bits}  ${disassemble(i.bits, pc, 64)}`);
    pc += BigInt(i.size);
  }
  out.push(`  ${hex(pc, 4)}: (end)`);
  return out;
}

/** A full report: listing, inputs, differences. */
export function describeMismatch(title: string, c: DiffCase, diffs: readonly string[]): string {
  const regs: string[] = [];
  for (let i = 1; i < 32; i += 4) {
    regs.push('  ' + [i, i + 1, i + 2, i + 3].filter((k) => k < 32).map((k) => `${(XREG_ABI_NAMES[k] ?? '').padStart(4)}=${hex(c.x[k]!)}`).join(' '));
  }
  const fregs: string[] = [];
  for (let i = 0; i < 32; i += 4) {
    fregs.push('  ' + [i, i + 1, i + 2, i + 3].map((k) => `${(FREG_ABI_NAMES[k] ?? '').padStart(4)}=${hex(c.f[k]!)}`).join(' '));
  }
  return [
    title, 'block:', ...listing(c), 'inputs:', ...regs, ...fregs, `  fcsr=${hex(c.fcsr, 2)} (frm ${c.fcsr >> 5}, fflags ${hex(c.fcsr & 31, 2)})`,
    'differences:', ...diffs.map((d) => `  ${d}`),
  ].join('\n');
}
