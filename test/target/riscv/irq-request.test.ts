/**
 * The RISC-V CPU keeps the loop's `interruptRequest` exact: cleared when execInterrupt finds nothing,
 * raised again by every change that may make an interrupt pending and enabled, so no interrupt is lost.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../../src/memory/address-space.js';
import { MemoryRegion } from '../../../src/memory/region.js';
import { RiscvCpu } from '../../../src/target/riscv/cpu.js';
import { IRQ_M_EXT, IRQ_S_SOFT, MIP_MEIP, MSTATUS_MIE, PRV_U } from '../../../src/target/riscv/hart-state.js';
import { setIrqLine } from '../../../src/target/riscv/priv.js';
import { program, R } from './asm.js';

const BASE = 0x80000000n;
const HANDLER = BASE + 0x100n;
const MCAUSE_MEI = (1n << 63n) | BigInt(IRQ_M_EXT);

function machine(): { cpu: RiscvCpu; as: AddressSpace } {
  const root = MemoryRegion.container(null, 'system', 1n << 64n);
  root.addSubregion(BASE, MemoryRegion.ram(null, 'ram', 0x10000));
  const as = new AddressSpace(root, 'cpu-memory');
  const cpu = new RiscvCpu({ resetVector: BASE });
  cpu.setAddressSpace(as);
  cpu.configureTcg({ backend: 'closure' });
  cpu.realize();
  cpu.coldReset();
  return { cpu, as };
}

function load(as: AddressSpace, at: bigint, lines: Parameters<typeof program>[0]): void {
  const bytes: number[] = [];
  for (const i of program(lines)) for (let k = 0; k < i.size; k++) bytes.push((i.bits >>> (8 * k)) & 0xff);
  as.writeBytes(at, Uint8Array.from(bytes));
}

/** mtvec = HANDLER, mie.MEIE = 1, then a loop counting in a0 (pc BASE+0x14 is its branch target). */
function setup(enableMie: boolean): { cpu: RiscvCpu; as: AddressSpace } {
  const m = machine();
  load(m.as, BASE, [
    ['auipc', { rd: R.t0, imm: 0 }],
    ['addi', { rd: R.t0, rs1: R.t0, imm: 0x100 }],
    ['csrrw', { rd: 0, rs1: R.t0, csr: 0x305 }],
    ['addi', { rd: R.t1, rs1: 0, imm: -1 }],
    ['csrrw', { rd: 0, rs1: R.t1, csr: 0x304 }], // mie = all
    ['addi', { rd: R.a0, rs1: R.a0, imm: 1 }],
    ['jal', { rd: 0, imm: -4 }],
  ]);
  load(m.as, HANDLER, [['jal', { rd: 0, imm: 0 }]]);
  if (enableMie) m.cpu.hart.mstatusLo |= MSTATUS_MIE;
  return m;
}

describe('RISC-V interruptRequest', () => {
  it('is cleared while nothing is pending and the loop still takes a later interrupt', () => {
    const { cpu } = setup(true);
    cpu.run({ instructions: 200 });
    expect(cpu.tcg.interruptRequest).toBe(false);
    expect(cpu.pc).not.toBe(HANDLER);
    setIrqLine(cpu.hart, IRQ_M_EXT, true);
    expect(cpu.tcg.interruptRequest).toBe(true);
    cpu.run({ instructions: 10 });
    expect(cpu.getRegister('mcause')).toBe(MCAUSE_MEI);
    expect(cpu.pc).toBe(HANDLER);
  });

  it('takes an interrupt that was pending but disabled once the guest enables it', () => {
    const { cpu, as } = setup(false);
    setIrqLine(cpu.hart, IRQ_M_EXT, true);
    cpu.run({ instructions: 200 });
    // Pending in mip & mie but mstatus.MIE = 0 in M-mode: nothing taken, the flag is cleared.
    expect(cpu.tcg.interruptRequest).toBe(false);
    expect(cpu.hart.mip & MIP_MEIP).toBe(MIP_MEIP);
    expect(cpu.pc).not.toBe(HANDLER);
    // Patch the loop's first instruction into `csrrsi mstatus, MIE` (SMC invalidates the TB).
    load(as, BASE + 0x14n, [['csrrsi', { rd: 0, rs1: 8, csr: 0x300 }]]);
    cpu.run({ instructions: 20 });
    expect(cpu.getRegister('mcause')).toBe(MCAUSE_MEI);
    expect(cpu.pc).toBe(HANDLER);
  });

  it('is raised by CSR writes, privilege changes, device lines and reset', () => {
    const { cpu } = setup(false);
    const t = cpu.tcg;
    const cases: [string, () => void][] = [
      ['mie write', () => cpu.setRegister('mie', 0n)],
      ['mstatus write', () => cpu.setRegister('mstatus', 0n)],
      ['mideleg write', () => cpu.setRegister('mideleg', 0n)],
      ['sie write', () => cpu.setRegister('sie', 0n)],
      ['mip write', () => cpu.setRegister('mip', 0n)],
      ['privilege change', () => { cpu.hart.priv = PRV_U; }],
      ['device line', () => setIrqLine(cpu.hart, IRQ_S_SOFT, false)],
      ['reset', () => cpu.coldReset()],
    ];
    for (const [what, change] of cases) {
      t.interruptRequest = false;
      change();
      expect(t.interruptRequest, what).toBe(true);
    }
  });
});
