/**
 * RiscvCpu inside the real execution engine (H5's loop, soft TLB, TB cache) with a memory
 * AddressSpace, on both backends: a loop, a call, a trap handler, a CSR access.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../../src/memory/address-space.js';
import { MemoryRegion } from '../../../src/memory/region.js';
import { RiscvCpu } from '../../../src/target/riscv/cpu.js';
import { program, R } from './asm.js';

function machine(backend: 'closure' | 'interp'): { cpu: RiscvCpu; as: AddressSpace } {
  const root = MemoryRegion.container(null, 'system', 1n << 64n);
  root.addSubregion(0x80000000n, MemoryRegion.ram(null, 'ram', 0x10000));
  const as = new AddressSpace(root, 'cpu-memory');
  const cpu = new RiscvCpu({ resetVector: 0x80000000n });
  cpu.setAddressSpace(as);
  cpu.configureTcg({ backend });
  cpu.realize();
  cpu.coldReset();
  return { cpu, as };
}

const code = program([
  // mtvec = handler (0x80000100)
  ['auipc', { rd: R.t0, imm: 0 }],
  ['addi', { rd: R.t0, rs1: R.t0, imm: 0x100 }],
  ['csrrw', { rd: 0, rs1: R.t0, csr: 0x305 }],
  // a0 = sum(1..100) in a loop
  ['addi', { rd: R.a1, rs1: 0, imm: 100 }],
  ['c.add', { rd: R.a0, rs1: R.a0, rs2: R.a1 }],
  ['c.addi', { rd: R.a1, rs1: R.a1, imm: -1 }],
  ['bne', { rs1: R.a1, rs2: 0, imm: -4 }],
  // call f: a2 = a0 * 3
  ['jal', { rd: R.ra, imm: 12 }],
  ['ecall'],
  ['jal', { rd: 0, imm: 0 }], // not reached (the handler stops)
  // f:
  ['addi', { rd: R.t1, rs1: 0, imm: 3 }],
  ['mul', { rd: R.a2, rs1: R.a0, rs2: R.t1 }],
  ['c.jr', { rd: 0, rs1: R.ra, imm: 0 }],
]);

describe('RiscvCpu in the execution engine', () => {
  for (const backend of ['closure', 'interp'] as const) {
    it(`runs a program with a loop, a call and a trap (${backend} backend)`, () => {
      const { cpu, as } = machine(backend);
      let bytes: number[] = [];
      for (const i of code) for (let k = 0; k < i.size; k++) bytes.push((i.bits >>> (8 * k)) & 0xff);
      as.writeBytes(0x80000000n, Uint8Array.from(bytes));
      // handler at 0x100: a3 = mcause; then spin on itself
      bytes = [];
      for (const i of program([['csrrs', { rd: R.a3, rs1: 0, csr: 0x342 }], ['jal', { rd: 0, imm: 0 }]])) {
        for (let k = 0; k < i.size; k++) bytes.push((i.bits >>> (8 * k)) & 0xff);
      }
      as.writeBytes(0x80000100n, Uint8Array.from(bytes));
      cpu.run({ until: 0x80000104n });
      expect(cpu.getRegister('a0')).toBe(5050n);
      expect(cpu.getRegister('a2')).toBe(15150n);
      expect(cpu.getRegister('a3')).toBe(11n);
      expect(cpu.getRegister('mepc')).toBe(0x80000000n + 4n * 3n + 4n + 2n + 2n + 4n + 4n);
      expect(cpu.pc).toBe(0x80000104n);
    });
  }
});
