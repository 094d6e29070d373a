/**
 * softboard's side of the differential test: a RiscvCpu (default RV64GC+Zba/Zbb/Zbc/Zbs) in the real
 * execution engine (TB cache, soft TLB, the chosen backend) with RAM at 0 laid out as the runner's
 * pages, running one block per case from {@link BLOCK_PC} to its end in M-mode with mstatus.FS dirty
 * (QEMU user mode runs in U-mode; nothing the generator emits depends on the privilege level).
 */
import { AddressSpace } from '../../src/memory/address-space.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { RiscvCpu } from '../../src/target/riscv/cpu.js';
import { ENV_LOAD_RES } from '../../src/target/riscv/cpu-state.js';
import { MSTATUS_FS } from '../../src/target/riscv/hart-state.js';
import type { TcgBackendName } from '../../src/hw/core/cpu.js';
import {
  BLOCK_PC, codeBytes, codeSize, DATA_BASE, DATA_SIZE, RAM_SIZE, signalOfCause, type DiffCase, type DiffState,
} from './layout.js';

/**
 * What softboard did with one case: the final state (with the trap, if an instruction raised an
 * exception: the state is then the one before that instruction, as QEMU's signal frame holds), or an
 * error when the block neither finished nor trapped.
 */
export type SoftboardOutcome =
  | { readonly ok: true; readonly state: DiffState }
  | { readonly ok: false; readonly error: string; readonly state: DiffState };

/** Instructions after which a block that never reaches its end is given up (blocks only branch forward). */
const BUDGET = 10_000;

/** A reusable softboard machine for difftest cases. */
export class SoftboardRunner {
  readonly cpu: RiscvCpu;
  readonly as: AddressSpace;
  private exception: { pc: bigint } | null = null;

  constructor(readonly backend: TcgBackendName) {
    const root = MemoryRegion.container(null, 'system', 1n << 64n);
    root.addSubregion(0n, MemoryRegion.ram(null, 'ram', RAM_SIZE));
    this.as = new AddressSpace(root, 'difftest');
    this.cpu = new RiscvCpu({ resetVector: BLOCK_PC });
    this.cpu.setAddressSpace(this.as);
    this.cpu.configureTcg({ backend });
    this.cpu.realize();
    this.cpu.hooks.on('exception', (pc) => {
      this.exception ??= { pc };
      this.cpu.exit();
    });
  }

  /** Runs one case from a fresh reset state. */
  run(c: DiffCase): SoftboardOutcome {
    const cpu = this.cpu;
    cpu.reset();
    cpu.setRegister('mstatus', cpu.getRegister('mstatus') | BigInt(MSTATUS_FS));
    for (let i = 1; i < 32; i++) cpu.setX(i, c.x[i] ?? 0n);
    for (let i = 0; i < 32; i++) cpu.setF(i, c.f[i] ?? 0n);
    cpu.setRegister('fcsr', BigInt(c.fcsr));
    cpu.envView.setBigUint64(ENV_LOAD_RES, 0xffffffffffffffffn, true);
    this.as.writeBytes(DATA_BASE, c.data.subarray(0, DATA_SIZE));
    this.as.writeBytes(BLOCK_PC, codeBytes(c.code));
    cpu.pc = BLOCK_PC;
    const end = BLOCK_PC + BigInt(codeSize(c.code));
    this.exception = null;
    const r = cpu.run({ until: end, instructions: BUDGET });
    const exc = this.exception as { pc: bigint } | null; // set by the hook during run()
    if (exc) {
      const cause = cpu.getRegister('mcause');
      this.lastTrap = { cause, pc: exc.pc, tval: cpu.getRegister('mtval') };
      return { ok: true, state: this.state({ signal: signalOfCause(cause), pc: exc.pc }) };
    }
    this.lastTrap = null;
    const state = this.state(null);
    if (r.reason !== 'until' || cpu.pc !== end) {
      return { ok: false, state, error: `softboard stopped (${r.reason}) at pc 0x${cpu.pc.toString(16)}, not at the block end 0x${end.toString(16)}` };
    }
    return { ok: true, state };
  }

  /** The exception of the last run (mcause, faulting pc, mtval), for reports. */
  lastTrap: { cause: bigint; pc: bigint; tval: bigint } | null = null;

  private state(trap: DiffState['trap']): DiffState {
    const cpu = this.cpu;
    const x: bigint[] = [0n], f: bigint[] = [];
    for (let i = 1; i < 32; i++) x.push(cpu.getX(i));
    for (let i = 0; i < 32; i++) f.push(cpu.getF(i));
    return { x, f, fcsr: Number(cpu.getRegister('fcsr')), data: this.as.readBytes(DATA_BASE, DATA_SIZE), trap };
  }
}
